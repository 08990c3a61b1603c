/**
 * Reconnects against the Kallglot sandbox: drops with fresh tokens and replay de-duplication,
 * keepalive death, session end, give-up, 401 on reconnect, permanent resolver errors.
 */
import { expectedCallFrames, type KallglotSandbox } from '../../sandbox';
import { FIRST_RETRY_MAX_MS, type EndpointResult } from '../../nodes/shared/stream/client';
import {
	ResolveError,
	api,
	createSession,
	expectNoSecrets,
	handshakesOf,
	recorder,
	recordingClient,
	restResolver,
	sandboxPerFile,
	secretsOf,
	serverSockets,
	sleep,
	waitFor,
} from './helpers';
import { FakeClock } from '../helpers/clock';

let sandbox: KallglotSandbox;
const track = sandboxPerFile((started) => (sandbox = started));

const transcriptKeys = (events: { type: string }[]) =>
	events
		.filter((e) => e.type.startsWith('transcript.'))
		.map((e) => {
			const t = e as { type: string; sequence: number | null; text: string };
			return `${t.type}:${t.sequence}:${t.text}`;
		});

describe('reconnect after drops', () => {
	it('reconnects with a fresh token per attempt and emits each replayed frame once', async () => {
		const session = await createSession(sandbox);
		const rec = recorder();
		const attempts: number[] = [];
		const client = track(recordingClient(rec, { resolveEndpoint: restResolver(sandbox, session.id, attempts) }));
		await client.start();
		// ready + 5 frames, then a cut; twice. The next reconnection re-sends the last 3 script frames.
		sandbox.setStreamFaults(session.id, { dropAfterFrames: 6, dropTimes: 2, replayOnReconnect: 3 });
		await sandbox.play(session.id, { intervalMs: 2 });
		await waitFor('last final', () => transcriptKeys(rec.events).length === expectedCallFrames().length);
		await sleep(30);

		expect(transcriptKeys(rec.events)).toEqual(transcriptKeys(expectedCallFrames()));
		expect(rec.reconnected).toHaveLength(2);
		expect(rec.reconnected.every((r) => r.attempts === 1 && r.downtimeMs >= 0)).toBe(true);
		const stats = client.stats;
		expect(stats.reconnects).toBe(2);
		expect(stats.duplicatesDropped).toBeGreaterThanOrEqual(1);
		// every handshake used a token of its own, each from its own GET /v1/sessions/{id}
		const handshakes = handshakesOf(sandbox, session.id);
		expect(handshakes.map((h) => h.status)).toEqual([101, 101, 101]);
		expect(new Set(handshakes.map((h) => h.token)).size).toBe(3);
		expect(attempts).toEqual([0, 1, 2]); // no stable connection in between: the counter keeps counting
		// one listener of each kind on the current socket, and no frame counted twice
		expect(client.diagnostics().socketListeners).toEqual({ 'unexpected-response': 1, open: 1, message: 1, error: 1, close: 1 });
		expect(stats.framesReceived).toBeLessThanOrEqual(sandbox.sessions.get(session.id)!.framesSent);
		expect(client.state).toBe('open');
	});

	it('resets the attempt counter after a stable connection', async () => {
		const session = await createSession(sandbox);
		const rec = recorder();
		const attempts: number[] = [];
		const client = track(
			recordingClient(rec, {
				resolveEndpoint: restResolver(sandbox, session.id, attempts),
				reconnect: { initialDelayMs: 10, maxDelayMs: 50, stableAfterMs: 50 },
			}),
		);
		await client.start();
		sandbox.setStreamFaults(session.id, { dropAfterFrames: 3, dropTimes: 2 });
		await waitFor('two reconnects', () => rec.reconnected.length === 2);
		expect(attempts).toEqual([0, 1, 1]);
	});

	it('retries a 401 at the handshake with a fresh token (counts as an attempt)', async () => {
		const session = await createSession(sandbox);
		const rec = recorder();
		const client = track(recordingClient(rec, { resolveEndpoint: restResolver(sandbox, session.id) }));
		await client.start();
		sandbox.setStreamFaults(session.id, { dropAfterFrames: 1, refuseHandshakes: { count: 2, status: 401 } });
		await waitFor('reconnected', () => rec.reconnected.length === 1);
		expect(rec.reconnected[0].attempts).toBe(3);
		const handshakes = handshakesOf(sandbox, session.id);
		expect(handshakes.map((h) => h.status)).toEqual([101, 401, 401, 101]);
		expect(new Set(handshakes.map((h) => h.token)).size).toBe(4);
		expect(rec.gaveUp).toEqual([]);
	});
});

// Keepalive itself (a ping per interval, lost after two silent ones): timing.test.ts, on a fake clock.

describe('keepalive under an event-loop stall', () => {
	it('does not mistake a stalled process with frames waiting for a dead stream', async () => {
		const session = await createSession(sandbox);
		const rec = recorder();
		const client = track(recordingClient(rec, { resolveEndpoint: restResolver(sandbox, session.id), pingIntervalMs: 50 }));
		await client.start();
		await sleep(60);
		sandbox.sendFrame(session.id, { type: 'transcript.final', speaker: 'agent', text: 'sent before the stall', sequence: 1 });
		const until = Date.now() + 250; // > 2 ping intervals without running the event loop
		while (Date.now() < until) {
			// busy: timers and sockets wait
		}
		await waitFor('the waiting frame', () => rec.events.some((e) => e.type === 'transcript.final'));
		await sleep(30);
		expect(rec.logs.filter((l) => l.msg.includes('keepalive'))).toEqual([]);
		expect(handshakesOf(sandbox, session.id)).toHaveLength(1);
		expect(client.state).toBe('open');
	});
});

describe('session end', () => {
	it('stops on a REST end: onEnded once, no further handshake', async () => {
		const session = await createSession(sandbox);
		const rec = recorder();
		const client = track(recordingClient(rec, { resolveEndpoint: restResolver(sandbox, session.id) }));
		await client.start();
		await api(sandbox, 'POST', `/sessions/${session.id}/end`);
		await waitFor('onEnded', () => rec.ended.length > 0);
		await waitFor('the socket closed', () => client.diagnostics().retiringSockets === 0);
		await sleep(150); // a second onEnded or a handshake would show up now
		expect(rec.ended).toEqual(['ended_by_api']);
		expect(rec.events.map((e) => e.type)).toEqual(['session.ready', 'session.ended']);
		expect(client.state).toBe('ended');
		expect(handshakesOf(sandbox, session.id)).toHaveLength(1);
		expect(sandbox.openStreamCount(session.id)).toBe(0);
		expect(client.diagnostics()).toEqual({ timers: [], socketListeners: null, retiringSockets: 0 });
	});

	it('stops on a session.ended frame and closes its socket itself', async () => {
		const session = await createSession(sandbox);
		const rec = recorder();
		const client = track(recordingClient(rec, { resolveEndpoint: restResolver(sandbox, session.id) }));
		await client.start();
		// only the frame: the sandbox keeps the session and the socket open
		sandbox.sendFrame(session.id, { type: 'session.ended', session_id: session.id, reason: 'explicit_end' });
		await waitFor('onEnded', () => rec.ended.length > 0);
		await waitFor('socket closed by the client', () => sandbox.openStreamCount(session.id) === 0);
		await sleep(150);
		expect(rec.ended).toEqual(['explicit_end']);
		expect(client.state).toBe('ended');
		expect(handshakesOf(sandbox, session.id)).toHaveLength(1);
	});

	it('send(session.end) → the server replies session.ended → onEnded', async () => {
		const session = await createSession(sandbox);
		const rec = recorder();
		const client = track(recordingClient(rec, { resolveEndpoint: restResolver(sandbox, session.id) }));
		await client.start();
		expect(client.send(JSON.stringify({ type: 'session.end' }))).toBe(true);
		await waitFor('onEnded', () => rec.ended.length > 0);
		expect(rec.ended).toEqual(['explicit_end']);
		expect(client.send(JSON.stringify({ type: 'ping' }))).toBe(false);
	});

	it('stops when resolveEndpoint says ended while reconnecting (fake clock: asked exactly at the end of its 2 s backoff)', async () => {
		const session = await createSession(sandbox);
		const rec = recorder();
		const clock = new FakeClock();
		const calls: number[] = [];
		const client = track(
			recordingClient(rec, {
				clock,
				resolveEndpoint: restResolver(sandbox, session.id, calls),
				// A fixed 2 s backoff (no quick first retry); the time moves only when the test moves it.
				reconnect: { initialDelayMs: 2000, maxDelayMs: 2000, jitter: 0, firstDelayMs: undefined },
			}),
		);
		await client.start();
		sandbox.setStreamFaults(session.id, { dropAfterFrames: 1 });
		// The clock sends no pings: one by hand, whose pong is the frame the drop waits for.
		client.send('{"type":"ping"}');
		await waitFor('backoff', () => client.state === 'backoff', 10000);
		expect(clock.delays).toEqual([2000]);
		sandbox.endSession(session.id, 'call_completed'); // no socket open: the client never sees the frame
		await clock.advance(1999);
		expect(calls).toEqual([0]);
		await clock.advance(1);
		await waitFor('onEnded', () => rec.ended.length > 0, 15000);
		expect(calls).toEqual([0, 1]);
		// Nothing armed is left to bring a retry or a second onEnded.
		expect(client.diagnostics().timers).toEqual([]);
		await clock.advance(60_000);
		expect(rec.ended).toEqual([null]);
		expect(client.state).toBe('ended');
		expect(handshakesOf(sandbox, session.id)).toHaveLength(1);
		expect(rec.gaveUp).toEqual([]);
	});

	it('stops on a 410 handshake while reconnecting (stale endpoint; fake clock: the retry exactly at the end of its 2 s backoff)', async () => {
		const session = await createSession(sandbox);
		const rec = recorder();
		const clock = new FakeClock();
		const stale: EndpointResult = { kind: 'live', endpoint: { url: session.stream!.url, token: session.stream!.token } };
		const client = track(
			recordingClient(rec, {
				clock,
				resolveEndpoint: async () => stale,
				reconnect: { initialDelayMs: 2000, maxDelayMs: 2000, jitter: 0, firstDelayMs: undefined },
			}),
		);
		await client.start();
		sandbox.setStreamFaults(session.id, { dropAfterFrames: 1 });
		// The clock sends no pings: one by hand, whose pong is the frame the drop waits for.
		client.send('{"type":"ping"}');
		await waitFor('backoff', () => client.state === 'backoff', 10000);
		expect(clock.delays).toEqual([2000]);
		sandbox.endSession(session.id);
		await clock.advance(1999);
		expect(handshakesOf(sandbox, session.id)).toHaveLength(1);
		await clock.advance(1);
		await waitFor('onEnded', () => rec.ended.length > 0, 15000);
		expect(client.diagnostics().timers).toEqual([]);
		await clock.advance(60_000);
		expect(rec.ended).toEqual([null]);
		expect(handshakesOf(sandbox, session.id).map((h) => h.status)).toEqual([101, 410]);
	});
});

describe('the retry budget counts consecutive failed attempts only', () => {
	const reconnectDelays = (rec: ReturnType<typeof recorder>) =>
		rec.logs
			.map((l) => /reconnect attempt (\d+) of \d+ in (\d+) ms/.exec(l.msg))
			.filter((m): m is RegExpExecArray => m !== null)
			.map((m) => ({ attempt: Number(m[1]), delayMs: Number(m[2]) }));

	it('eleven drops, each after a connection that lived past the threshold: no give-up, backoff back at its start each time', async () => {
		const session = await createSession(sandbox);
		const rec = recorder();
		const client = track(
			recordingClient(rec, {
				resolveEndpoint: restResolver(sandbox, session.id),
				// a budget far below the number of drops: only resets keep the client alive
				reconnect: { initialDelayMs: 200, maxDelayMs: 2000, maxAttempts: 3, stableAfterMs: 100 },
			}),
		);
		await client.start();
		for (let drop = 1; drop <= 11; drop++) {
			await waitFor(`connection ${drop} counted as a success`, () => client.state === 'open' && client.budget.stable, 10_000);
			for (const ws of serverSockets(sandbox, session.id)) ws.terminate();
			await waitFor(`reconnect ${drop}`, () => rec.reconnected.length === drop, 10_000);
		}
		expect(rec.gaveUp).toEqual([]);
		expect(rec.reconnected.map((r) => r.attempts)).toEqual(Array(11).fill(1));
		const delays = reconnectDelays(rec);
		expect(delays).toHaveLength(11);
		// every retry was attempt 1 again, with the quick first delay (not 200 → 400 → 800 …)
		expect(delays.every((d) => d.attempt === 1 && d.delayMs <= FIRST_RETRY_MAX_MS)).toBe(true);
		expect(client.budget.failedAttempts).toBeLessThanOrEqual(1);
	});

	it('a server that accepts and drops at once: each short-lived connection is a failed attempt, and the client gives up', async () => {
		const session = await createSession(sandbox);
		const rec = recorder();
		const client = track(
			recordingClient(rec, {
				resolveEndpoint: restResolver(sandbox, session.id),
				reconnect: { initialDelayMs: 10, maxDelayMs: 40, maxAttempts: 4, stableAfterMs: 5000 },
			}),
		);
		await client.start();
		// every connection is cut right after session.ready
		sandbox.setStreamFaults(session.id, { dropAfterFrames: 1, dropTimes: 1000 });
		client.send('{"type":"ping"}');
		await waitFor('onGiveUp', () => rec.gaveUp.length > 0, 10_000);
		await sleep(150);
		expect(rec.gaveUp).toHaveLength(1);
		expect(rec.gaveUp[0].message).toMatch(/gave up after 4 consecutive failed reconnect attempt/);
		// the first connection plus exactly maxAttempts reconnects: bounded, no tight loop
		expect(handshakesOf(sandbox, session.id).filter((h) => h.status === 101)).toHaveLength(5);
		const delays = reconnectDelays(rec);
		expect(delays.map((d) => d.attempt)).toEqual([1, 2, 3, 4]);
		expect(client.state).toBe('closed');
	});
});

describe('a session that is not live yet', () => {
	it('start() resolves "waiting"; the client asks again with backoff, never gives up while waiting, and connects once live', async () => {
		const session = await createSession(sandbox);
		const rec = recorder();
		const rest = restResolver(sandbox, session.id);
		const calls: number[] = [];
		let live = false;
		const client = track(
			recordingClient(rec, {
				resolveEndpoint: async (attempt) => {
					calls.push(attempt);
					return live ? rest(attempt) : { kind: 'waiting' };
				},
				reconnect: { maxAttempts: 1 },
				waitPoll: { initialDelayMs: 10, maxDelayMs: 40, jitter: 0 },
			}),
		);
		await expect(client.start()).resolves.toBe('waiting');
		await waitFor('more polls than the retry budget', () => calls.length >= 6);
		expect(client.state).toBe('waiting');
		expect(rec.gaveUp).toEqual([]);
		expect(calls.every((n) => n === 0)).toBe(true); // waiting is not a failed attempt
		expect(handshakesOf(sandbox, session.id)).toHaveLength(0);
		live = true;
		await waitFor('open', () => client.state === 'open');
		await sandbox.play(session.id, { intervalMs: 1 });
		await waitFor('the call', () => transcriptKeys(rec.events).length === expectedCallFrames().length);
	});

	it('ended with a reason while waiting → onEnded(reason)', async () => {
		const rec = recorder();
		let polls = 0;
		const client = track(
			recordingClient(rec, {
				resolveEndpoint: async () => (++polls < 3 ? { kind: 'waiting' } : { kind: 'ended', reason: 'no_answer' }),
				waitPoll: { initialDelayMs: 10, maxDelayMs: 20 },
			}),
		);
		await expect(client.start()).resolves.toBe('waiting');
		await waitFor('ended', () => rec.ended.length === 1);
		expect(rec.ended).toEqual(['no_answer']);
		expect(client.state).toBe('ended');
	});
});

describe('give-up', () => {
	it('calls onGiveUp once after maxAttempts refused handshakes, then stops', async () => {
		const session = await createSession(sandbox);
		const rec = recorder();
		const client = track(
			recordingClient(rec, {
				resolveEndpoint: restResolver(sandbox, session.id),
				reconnect: { initialDelayMs: 10, maxDelayMs: 30, maxAttempts: 3 },
			}),
		);
		await client.start();
		sandbox.setStreamFaults(session.id, { dropAfterFrames: 1, refuseHandshakes: { count: 100, status: 503 } });
		await waitFor('onGiveUp', () => rec.gaveUp.length > 0);
		await sleep(150);
		expect(rec.gaveUp).toHaveLength(1);
		expect(rec.gaveUp[0]).toMatchObject({ kind: 'refused', status: 503, attempts: 3 });
		expect(rec.gaveUp[0].message).toMatch(/gave up after 3 consecutive failed reconnect attempt/);
		expect(handshakesOf(sandbox, session.id).map((h) => h.status)).toEqual([101, 503, 503, 503]);
		expect(client.state).toBe('closed');
		expect(rec.ended).toEqual([]);
		expect(client.diagnostics()).toEqual({ timers: [], socketListeners: null, retiringSockets: 0 });
		expectNoSecrets([rec.gaveUp[0].message, ...rec.logs.map((l) => l.msg)], secretsOf(sandbox));
	});

	it('gives up at once on a permanent resolveEndpoint error', async () => {
		const session = await createSession(sandbox);
		const rec = recorder();
		const rest = restResolver(sandbox, session.id);
		const calls: number[] = [];
		const client = track(
			recordingClient(rec, {
				resolveEndpoint: async (attempt) => {
					calls.push(attempt);
					if (attempt === 0) return rest(attempt);
					throw new ResolveError('the API key was revoked', true);
				},
			}),
		);
		await client.start();
		sandbox.setStreamFaults(session.id, { dropAfterFrames: 1 });
		await waitFor('onGiveUp', () => rec.gaveUp.length > 0);
		await sleep(100);
		expect(calls).toEqual([0, 1]);
		expect(rec.gaveUp).toHaveLength(1);
		expect(rec.gaveUp[0]).toMatchObject({ kind: 'endpoint', permanent: true });
		expect(rec.gaveUp[0].message).toContain('the API key was revoked');
	});
});

describe('secrets', () => {
	it('never logs a token or the API key, through drops, refusals and failures', async () => {
		const session = await createSession(sandbox);
		const rec = recorder();
		const client = track(recordingClient(rec, { resolveEndpoint: restResolver(sandbox, session.id) }));
		await client.start();
		sandbox.setStreamFaults(session.id, { dropAfterFrames: 1, refuseHandshakes: { count: 1, status: 401 } });
		await waitFor('reconnected', () => rec.reconnected.length === 1);
		await client.close();

		const texts = rec.logs.map((l) => l.msg);
		// the URLs were logged (redacted), so this test would see a leak
		expect(texts.filter((t) => t.includes('?token=***'))).toHaveLength(3);
		const secrets = secretsOf(sandbox);
		expect(secrets.length).toBeGreaterThanOrEqual(4);
		expectNoSecrets(texts, secrets);
	});
});
