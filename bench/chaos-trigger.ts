/**
 * `npm run bench:chaos -- --minutes 4`: the Kallglot Trigger's listener (the same SessionListener
 * the node runs, with its execution queue and emitted-finals memory) against the sandbox, a fault
 * every 10–20 s while a call streams one final every 200 ms. The sandbox does NOT hold frames while
 * no stream is open (as Kallglot does not promise a replay), so finals spoken during an outage are
 * lost by nature: the loss measures the downtime. Reports lost / duplicated / out-of-order finals,
 * give-ups (each followed by a re-activation, as n8n does), stream uptime and RSS.
 *
 * Faults: abrupt TCP drop; drop + the next handshake refused (503); drop + the next GET of the
 * session fails (503); drop + the next connection replays the last 5 finals; a graceful server
 * close (1001) without session.ended.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { WebSocket } from 'ws';
import { KallglotSandbox } from '../sandbox';
import { SessionApiError, SessionListener, type SessionApi } from '../nodes/KallglotTrigger/listener';
import { EmittedFinals } from '../nodes/shared/stream/emitted';
import { systemClock } from '../nodes/shared/clock';
import { sessionResponse } from '../nodes/shared/wire';
import type { EventItem } from '../nodes/KallglotTrigger/items';

const minutesArg = process.argv.indexOf('--minutes');
const MINUTES = minutesArg > 0 ? Number(process.argv[minutesArg + 1]) : 4;
if (!(MINUTES > 0)) throw new Error('--minutes must be a positive number');
const FINAL_EVERY_MS = 200;

function sessionApi(sandbox: KallglotSandbox): SessionApi {
	const call = async (method: string, path: string, signal?: AbortSignal) => {
		const res = await fetch(`${sandbox.baseUrl}${path}`, {
			method,
			headers: { Authorization: `Bearer ${sandbox.apiKey}`, 'Content-Type': 'application/json' },
			body: method === 'POST' ? '{"mode":"bidirectional_translation"}' : undefined,
			signal,
		});
		const body = (await res.json()) as Record<string, unknown>;
		if (!res.ok) throw new SessionApiError(`Kallglot ${res.status}`, res.status);
		return sessionResponse.parse(body);
	};
	return {
		create: (signal) => call('POST', '/sessions', signal),
		get: (id, signal) => call('GET', `/sessions/${id}`, signal),
		end: async (id) => void (await call('POST', `/sessions/${id}/end`)),
	};
}

function serverSockets(sandbox: KallglotSandbox, sessionId: string): WebSocket[] {
	const hub = (sandbox as unknown as { hub: { connections: Map<string, Set<{ ws: WebSocket }>> } }).hub;
	return [...(hub.connections.get(sessionId) ?? [])].map((c) => c.ws);
}

async function main(): Promise<void> {
	const sandbox = await KallglotSandbox.start();
	const create = await fetch(`${sandbox.baseUrl}/sessions`, {
		method: 'POST',
		headers: { Authorization: `Bearer ${sandbox.apiKey}`, 'Content-Type': 'application/json' },
		body: '{"mode":"bidirectional_translation"}',
	});
	const sessionId = ((await create.json()) as { id: string }).id;
	sandbox.startCall(sessionId);

	const staticData: Record<string, unknown> = {};
	const executions: EventItem[] = [];
	let giveUps = 0;
	let listener: SessionListener;
	const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
	const activate = async (): Promise<void> => {
		listener = new SessionListener({
			clock: systemClock,
			source: { kind: 'existing', sessionId },
			selection: { events: new Set(['finals', 'ended']), speakers: new Set(), languages: new Set(), includeRaw: false, passUnknown: false },
			emitAs: 'event',
			batch: { maxEvents: 1, maxWaitMs: 1000 },
			flow: { concurrency: 1, maxQueued: 100 },
			emitted: new EmittedFinals(staticData),
			emitReconnects: false,
			endCreatedSessionOnClose: false,
			manual: false,
			stream: {},
			api: sessionApi(sandbox),
			// An execution of 5–20 ms; the next one waits for it (the default flow control).
			emit: (item) => {
				executions.push(item);
				return sleep(5 + Math.random() * 15);
			},
			emitError: () => {
				// As n8n does: deactivate (closeFunction), then re-activate after 1 s.
				giveUps++;
				void listener.close().then(async () => {
					await sleep(1000);
					await activate().catch((error: Error) => console.error(`re-activation failed: ${error.message}`));
				});
			},
			log: quiet,
		});
		await listener.start();
	};
	await activate();

	const deadline = Date.now() + MINUTES * 60_000;
	const rssStart = process.memoryUsage().rss;
	let rssPeak = rssStart;
	let samples = 0;
	let upSamples = 0;
	const sampler = setInterval(() => {
		samples++;
		if (sandbox.openStreamCount(sessionId) > 0) upSamples++;
		rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
	}, 50);

	// The call: one final every 200 ms, sent only to open streams (nothing held for a reconnect).
	const calling = sandbox.sendFinals(sessionId, {
		count: Math.ceil((MINUTES * 60_000) / FINAL_EVERY_MS),
		intervalMs: FINAL_EVERY_MS,
		waitForListener: false,
	});

	const faults: Record<string, number> = {};
	const kinds = ['drop', 'drop+refused handshake', 'drop+GET 503', 'drop+replay 5', 'server close 1001'] as const;
	let round = 0;
	while (Date.now() < deadline - 10_000) {
		await sleep(10_000 + Math.random() * 10_000);
		if (Date.now() >= deadline) break;
		const kind = kinds[round++ % kinds.length];
		faults[kind] = (faults[kind] ?? 0) + 1;
		if (kind === 'drop+refused handshake') sandbox.setStreamFaults(sessionId, { refuseHandshakes: { count: 1, status: 503 } });
		if (kind === 'drop+GET 503') sandbox.injectFault({ method: 'GET', path: `/v1/sessions/${sessionId}`, status: 503 });
		if (kind === 'drop+replay 5') sandbox.setStreamFaults(sessionId, { replayOnReconnect: 5 });
		for (const ws of serverSockets(sandbox, sessionId)) {
			if (kind === 'server close 1001') ws.close(1001, 'going away');
			else ws.terminate();
		}
	}
	await calling;
	await sleep(1000);
	clearInterval(sampler);
	sandbox.endSession(sessionId, 'call_completed');
	await sleep(1000);
	await listener!.close();

	const sent = sandbox.sessions.get(sessionId)!.transcript.length;
	const seen = new Set<number>();
	let duplicated = 0;
	let outOfOrder = 0;
	let last = 0;
	const finals = executions
		.flatMap((e) => (e.event === 'session.batch' ? (e.items as EventItem[]) : [e]))
		.filter((e) => e.event === 'transcript.final')
		.map((e) => e.sequence as number);
	for (const sequence of finals) {
		if (seen.has(sequence)) duplicated++;
		else if (sequence < last) outOfOrder++;
		seen.add(sequence);
		last = Math.max(last, sequence);
	}
	const ended = executions.filter((e) => e.event === 'session.ended');
	const report = {
		minutes: MINUTES,
		faults,
		faultCount: Object.values(faults).reduce((a, b) => a + b, 0),
		finalsSent: sent,
		finalsEmitted: finals.length,
		lost: sent - seen.size,
		lostPercent: round2((100 * (sent - seen.size)) / sent),
		duplicated,
		outOfOrder,
		giveUps,
		executions: executions.length,
		endedItems: ended.length,
		streamUptimePercent: round2((100 * upSamples) / samples),
		handshakes: sandbox.handshakes.filter((h) => h.sessionId === sessionId).length,
		rssStartMiB: Math.round(rssStart / 2 ** 20),
		rssPeakMiB: Math.round(rssPeak / 2 ** 20),
	};
	console.log(JSON.stringify(report, null, 2));
	console.log(
		`chaos: ${report.faultCount} faults in ${MINUTES} min → lost ${report.lost}/${sent} (${report.lostPercent} %), duplicated ${duplicated}, ` +
			`out of order ${outOfOrder}, give-ups ${giveUps}, stream up ${report.streamUptimePercent} %, RSS ${report.rssStartMiB} → ${report.rssPeakMiB} MiB`,
	);
	await sandbox.close();
	process.exitCode = giveUps === 0 && duplicated === 0 && outOfOrder === 0 && report.streamUptimePercent >= 95 ? 0 : 1;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

void main().catch((error: unknown) => {
	console.error(error);
	process.exit(1);
});
