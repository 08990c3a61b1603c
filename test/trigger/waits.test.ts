/**
 * What the README promises about waiting (Trigger → Execution order and flow control; Sessions
 * that are not live yet): an execution that never reports its end holds the queue for at most
 * 10 minutes, and a session that is not live is polled every 1 s, doubling to 15 s, with responses
 * reused for 1 s and 429s waited out per Retry-After; and polls pace on X-RateLimit-Remaining /
 * X-RateLimit-Reset (nothing sent before the reset, a long wait waited out between polls).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { KallglotSandbox } from '../../sandbox';
import { EXECUTION_WAIT_CAP_MS, ExecutionQueue } from '../../nodes/KallglotTrigger/flow';
import type { EventItem } from '../../nodes/KallglotTrigger/items';
import { SESSION_CACHE_MS } from '../../nodes/KallglotTrigger/listener';
import { baseDelay, backoffDelay } from '../../nodes/shared/stream/backoff';
import { KallglotStreamClient, WAIT_POLL } from '../../nodes/shared/stream';
import { activateTrigger, logLines, waitFor, type ActiveTrigger } from '../helpers/trigger';
import { FakeClock } from '../helpers/clock';
import { announcedWaits, clockDriver, expectedGetTimes } from './helpers';

const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8').replace(/\s+/g, ' ');

let sandbox: KallglotSandbox | undefined;
const triggers: ActiveTrigger[] = [];
afterEach(async () => {
	for (const t of triggers.splice(0)) await t.close();
	await sandbox?.close();
	sandbox = undefined;
});

async function createSession(sb: KallglotSandbox): Promise<string> {
	const response = await fetch(`${sb.baseUrl}/sessions`, {
		method: 'POST',
		headers: { Authorization: `Bearer ${sb.apiKey}`, 'Content-Type': 'application/json' },
		body: JSON.stringify({ mode: 'bidirectional_translation' }),
	});
	return ((await response.json()) as { id: string }).id;
}

async function listen(
	sb: KallglotSandbox,
	sessionId: string,
	more: { autoFinish?: boolean; clock?: FakeClock; options?: Record<string, unknown> } = {},
): Promise<ActiveTrigger> {
	const { options, ...rest } = more;
	const t = await activateTrigger({
		parameters: { sessionSource: 'existing', sessionId, ...(options ? { options } : {}) } as never,
		credentials: { apiKey: sb.apiKey, baseUrl: sb.baseUrl },
		...rest,
	});
	triggers.push(t);
	return t;
}

describe('an execution that never reports its end holds the queue for at most 10 minutes', () => {
	test('the production cap is the README’s 10 minutes', () => {
		const minutes = Number(/holds the queue for at most (\d+) minutes/.exec(readme)?.[1]);
		expect(minutes).toBe(10);
		expect(EXECUTION_WAIT_CAP_MS).toBe(minutes * 60_000);
	});

	describe('the queue itself (fake clock: the real 10 minutes)', () => {
		const item = (n: number): EventItem => ({ event: 'transcript.final', sequence: n });

		test('a stuck execution lets the next start after exactly the default cap, not before; close leaves no timer', async () => {
			const started: number[] = [];
			const logs: string[] = [];
			const clock = new FakeClock();
			const queue = new ExecutionQueue({
				clock,
				concurrency: 1,
				maxQueued: 100,
				start: (entry) => {
					started.push(entry.item.sequence as number);
					return new Promise(() => undefined); // never settles
				},
				log: (m) => logs.push(m),
			});
			expect(queue.waitCapMs).toBe(EXECUTION_WAIT_CAP_MS);
			for (let n = 1; n <= 3; n++) queue.push({ sessionId: 's', item: item(n) });
			expect(started).toEqual([1]);
			await clock.advance(EXECUTION_WAIT_CAP_MS - 1);
			expect(started).toEqual([1]);
			await clock.advance(1);
			expect(started).toEqual([1, 2]); // in order, still one at a time
			expect(logs).toEqual(['an execution has not finished after 10 minutes: starting the next one']);
			await clock.advance(EXECUTION_WAIT_CAP_MS);
			expect(started).toEqual([1, 2, 3]);
			expect(clock.delays).toEqual([EXECUTION_WAIT_CAP_MS]); // the third one's cap
			queue.close();
			await clock.advance(0);
			expect(clock.pending).toBe(0);
			expect(logs).toHaveLength(2);
		});
	});

	describe('in the trigger (real TriggerContext and sandbox, the trigger on a fake clock)', () => {
		test('executions whose donePromise never settles: each next one starts exactly 10 minutes later, in order, one at a time; a late end starts nothing extra', async () => {
			sandbox = await KallglotSandbox.start();
			const clock = new FakeClock();
			const id = await createSession(sandbox);
			// Keepalive far beyond the minutes this test moves the clock: no ping, no watchdog.
			const t = await listen(sandbox, id, { autoFinish: false, clock, options: { pingIntervalSeconds: 3600 } });
			const linesBefore = logLines.length;
			await sandbox.sendFinals(id, { count: 3, endWhenDone: true });
			// The client logs the end once it has handed everything before it to the queue.
			await waitFor(() => (logLines.slice(linesBefore).some((l) => l.includes('session ended')) ? true : undefined), 10_000, 'the end');
			expect(t.emits).toBe(1);
			await clock.advance(EXECUTION_WAIT_CAP_MS - 1);
			expect(t.emits).toBe(1);
			await clock.advance(1);
			expect(t.emits).toBe(2);
			// The first one ends late, while the second still runs: the third must still wait a full cap.
			expect(t.finish(1)).toBe(1);
			await clock.advance(EXECUTION_WAIT_CAP_MS - 1);
			expect(t.emits).toBe(2);
			await clock.advance(1);
			expect(t.emits).toBe(3);
			await clock.advance(EXECUTION_WAIT_CAP_MS);
			expect(t.emits).toBe(4);
			expect(t.executions.map((e) => e.sequence ?? e.event)).toEqual([1, 2, 3, 'session.ended']);
			const gaps = t.emittedAt.slice(1).map((at, k) => at - t.emittedAt[k]);
			expect(gaps).toEqual([EXECUTION_WAIT_CAP_MS, EXECUTION_WAIT_CAP_MS, EXECUTION_WAIT_CAP_MS]);
			const capped = logLines.slice(linesBefore).filter((l) => l.includes('an execution has not finished after 10 minutes: starting the next one'));
			expect(capped).toHaveLength(3);
			expect(t.errors).toHaveLength(0);
		});
	});
});

describe('a session that is not live yet is polled every 1 s, doubling to 15 s', () => {
	test('the production schedule is the README’s', () => {
		const [, first, max] = /polls `GET \/v1\/sessions\/\{id\}` every (\d+) s, doubling to (\d+) s/.exec(readme) ?? [];
		expect(WAIT_POLL).toMatchObject({ initialDelayMs: Number(first) * 1000, maxDelayMs: Number(max) * 1000, multiplier: 2 });
		const bases = Array.from({ length: 8 }, (_, k) => baseDelay(k + 1, WAIT_POLL));
		expect(bases).toEqual([1000, 2000, 4000, 8000, 15000, 15000, 15000, 15000]);
		for (const r of [0, 0.5, 0.9999]) {
			bases.forEach((base, k) => {
				const delay = backoffDelay(k + 1, WAIT_POLL, () => r);
				expect(delay).toBeGreaterThanOrEqual(Math.floor(base * (1 - WAIT_POLL.jitter)));
				expect(delay).toBeLessThanOrEqual(Math.min(WAIT_POLL.maxDelayMs, Math.ceil(base * (1 + WAIT_POLL.jitter))));
			});
		}
	});

	describe('the stream client’s default schedule (fake clock, jitter at its midpoint)', () => {
		test('asks again exactly 1 s, 2 s, 4 s, 8 s, then every 15 s, and never stops while waiting', async () => {
			const clock = new FakeClock();
			const asked: number[] = [];
			const client = new KallglotStreamClient({
				clock,
				random: () => 0.5,
				resolveEndpoint: async () => {
					asked.push(clock.now());
					return { kind: 'waiting' };
				},
				onEvent: () => undefined,
				reconnect: { maxAttempts: 1 },
			});
			try {
				await expect(client.start()).resolves.toBe('waiting');
				while (asked.length < 9) await clock.fireNext();
				expect(client.state).toBe('waiting');
				const gaps = asked.slice(1).map((at, k) => at - asked[k]);
				expect(gaps).toEqual([1000, 2000, 4000, 8000, 15000, 15000, 15000, 15000]);
				expect(client.diagnostics().timers).toEqual(['poll']);
			} finally {
				await client.close();
			}
			expect(clock.pending).toBe(0);
		});

		test('the jitter spreads each wait over ±20 % of its step', async () => {
			for (const r of [0, 0.9999]) {
				const clock = new FakeClock();
				const asked: number[] = [];
				const client = new KallglotStreamClient({
					clock,
					random: () => r,
					resolveEndpoint: async () => (asked.push(clock.now()), { kind: 'waiting' }),
					onEvent: () => undefined,
				});
				await client.start();
				while (asked.length < 6) await clock.fireNext();
				const gaps = asked.slice(1).map((at, k) => at - asked[k]);
				const factor = r === 0 ? 0.8 : 1.2;
				expect(gaps).toEqual([1000, 2000, 4000, 8000, 15000].map((base) => Math.min(15000, Math.round(base * factor))));
				await client.close();
			}
		});
	});

	describe('in the trigger (real TriggerContext, sandbox with `stream` only while active, the trigger on a fake clock)', () => {
		beforeEach(async () => {
			sandbox = await KallglotSandbox.start({ streamOnlyWhileActive: true });
		});
		const streamOpened = (id: string) => (sandbox!.handshakes.some((h) => h.sessionId === id && h.status === 101) ? true : undefined);

		test('announces the 1 s, 2 s, 4 s waits (±20 %) and polls exactly then, reusing an answer younger than 1 s; no stream opened, no error', async () => {
			const clock = new FakeClock();
			const id = await createSession(sandbox!);
			const from = logLines.length;
			const t = await listen(sandbox!, id, { clock });
			const drive = await clockDriver(sandbox!, clock, id);
			const moved = [await drive.step(), await drive.step(), await drive.step()];
			const delays = announcedWaits(logLines.slice(from)).slice(0, 3);
			expect(moved).toEqual(delays);
			delays.forEach((delay, k) => {
				const base = 1000 * 2 ** k;
				expect(delay).toBeGreaterThanOrEqual(base * 0.8);
				expect(delay).toBeLessThanOrEqual(base * 1.2);
			});
			expect(drive.gets.map((g) => g.at)).toEqual(expectedGetTimes(delays, SESSION_CACHE_MS));
			expect(sandbox!.handshakes.filter((h) => h.sessionId === id)).toHaveLength(0);
			expect(t.errors).toHaveLength(0);
		});

		test('a 429 while polling is waited out per Retry-After, exactly, on the trigger’s clock; polling goes on and the stream opens once the call starts', async () => {
			const clock = new FakeClock();
			const id = await createSession(sandbox!);
			const t = await listen(sandbox!, id, { clock });
			const drive = await clockDriver(sandbox!, clock, id);
			sandbox!.injectFault({ method: 'GET', path: `/v1/sessions/${id}`, status: 429, code: 'rate_limit_exceeded', retryAfter: 3 });
			while (!drive.gets.some((g) => g.status === 429)) await drive.step();
			const limited = drive.gets.find((g) => g.status === 429)!;
			// Within what a token fetch may wait (3 s): the retry waits inside the call.
			expect(await drive.step()).toBe(3000);
			expect(drive.gets.at(-1)).toEqual({ at: limited.at + 3000, status: 200 });
			sandbox!.startCall(id);
			const polled = drive.gets.length;
			while (drive.gets.length === polled) await drive.step();
			await waitFor(() => streamOpened(id), 20_000, 'the stream');
			await sandbox!.sendFinals(id, { count: 1, endWhenDone: true });
			const items = await t.waitForItems(2);
			expect(items.map((i) => i.event)).toEqual(['transcript.final', 'session.ended']);
			expect(t.errors).toHaveLength(0);
		});

		test('a Retry-After longer than fetching a token may take (10 s) is waited out between polls: the next GET exactly 11 s later, no failed attempt', async () => {
			const clock = new FakeClock();
			const id = await createSession(sandbox!);
			const from = logLines.length;
			const t = await listen(sandbox!, id, { clock });
			const drive = await clockDriver(sandbox!, clock, id);
			sandbox!.injectFault({ method: 'GET', path: `/v1/sessions/${id}`, status: 429, code: 'rate_limit_exceeded', retryAfter: 11 });
			while (!drive.gets.some((g) => g.status === 429)) await drive.step();
			const limited = drive.gets.find((g) => g.status === 429)!;
			expect(await drive.step()).toBe(11_000);
			expect(drive.gets.at(-1)).toEqual({ at: limited.at + 11_000, status: 200 });
			expect(drive.gets.filter((g) => g.status === 429)).toHaveLength(1);
			expect(logLines.slice(from).some((l) => l.includes('failed') && l.includes('resolving the stream endpoint'))).toBe(false);
			expect(t.errors).toHaveLength(0);
		});
	});
});

describe('polls pace on the rate-limit headers (real TriggerContext, sandbox with a fixed-window limit per key; the trigger and the limiter on one fake clock)', () => {
	const streamOpened = (id: string) => (sandbox!.handshakes.some((h) => h.sessionId === id && h.status === 101) ? true : undefined);
	/** What the connect attempts logged that would mean a failed one. */
	const failures = (lines: string[]) => lines.filter((l) => /failed|timed? ?out|took longer/i.test(l));

	/** Creates a session with the test's own request, which counts against the key's window. */
	async function createLimited(sb: KallglotSandbox): Promise<{ id: string; remaining: number; resetAt: number }> {
		const response = await fetch(`${sb.baseUrl}/sessions`, {
			method: 'POST',
			headers: { Authorization: `Bearer ${sb.apiKey}`, 'Content-Type': 'application/json' },
			body: JSON.stringify({ mode: 'bidirectional_translation' }),
		});
		const { id } = (await response.json()) as { id: string };
		const remaining = Number(response.headers.get('x-ratelimit-remaining'));
		return { id, remaining, resetAt: Number(response.headers.get('x-ratelimit-reset')) * 1000 };
	}

	test('1 request per 5 s: after each answer with X-RateLimit-Remaining 0, the next GET goes out exactly at its window’s end, not before; no 429, no failed attempt; the stream opens once the call starts', async () => {
		const WINDOW_MS = 5000;
		const clock = new FakeClock();
		sandbox = await KallglotSandbox.start({ streamOnlyWhileActive: true, rateLimit: { limit: 1, windowMs: WINDOW_MS, now: () => clock.now() } });
		const sb = sandbox;
		const created = await createLimited(sb);
		// The sandbox reports the window used up, its reset the window's end rounded up to a second.
		expect(created.remaining).toBe(0);
		expect(created.resetAt - clock.now()).toBeGreaterThanOrEqual(WINDOW_MS);
		expect(created.resetAt - clock.now()).toBeLessThan(WINDOW_MS + 1000);
		// A known state: the trigger starts at a whole second, in a window of its own (the create used this one up).
		await clock.advance(created.resetAt - clock.now());
		sb.clearRequests();
		const logsBefore = logLines.length;

		const t = await listen(sb, created.id, { clock });
		const drive = await clockDriver(sb, clock, created.id);
		// With a limit of 1, every answer says Remaining 0: each next GET waits for the window to end.
		// The polls (1 s, 2 s, 4 s … ±20 %) come before the first two windows end, so those GETs go out
		// exactly at the end (arrival + window: the pacer learns the window's length from its own
		// request, and this one ends on a whole second, where X-RateLimit-Reset says).
		while (drive.gets.length < 3) await drive.step();
		expect(drive.gets).toEqual([
			{ at: 0, status: 200 },
			{ at: WINDOW_MS, status: 200 },
			{ at: 2 * WINDOW_MS, status: 200 },
		]);
		sb.startCall(created.id);
		while (drive.gets.length < 4) await drive.step();
		await waitFor(() => streamOpened(created.id), 20_000, 'the stream');
		// The GET that brought the stream: at the third window's end or at a later poll, never before.
		expect(drive.gets).toHaveLength(4);
		expect(drive.gets[3].at).toBeGreaterThanOrEqual(3 * WINDOW_MS);
		await sb.sendFinals(created.id, { count: 1, endWhenDone: true });
		const items = await t.waitForItems(2);
		expect(items.map((i) => i.event)).toEqual(['transcript.final', 'session.ended']);

		const requests = sb.requests;
		expect(requests.filter((r) => r.status === 429)).toEqual([]);
		expect(requests.every((r) => r.method === 'GET' && r.path === `/v1/sessions/${created.id}` && r.status === 200)).toBe(true);
		expect(requests).toHaveLength(4);
		expect(failures(logLines.slice(logsBefore))).toEqual([]);
		expect(t.errors).toHaveLength(0);
	});

	test('a reset further ahead than the 10 s connect timeout is waited out between polls: the next GET goes out exactly at the reset, no 429, no failed attempt', async () => {
		const WINDOW_MS = 18_000;
		const clock = new FakeClock();
		sandbox = await KallglotSandbox.start({ streamOnlyWhileActive: true, rateLimit: { limit: 2, windowMs: WINDOW_MS, now: () => clock.now() } });
		const sb = sandbox;
		const created = await createLimited(sb);
		expect(created.remaining).toBe(1);
		const logsBefore = logLines.length;
		const t = await listen(sb, created.id, { clock });
		const drive = await clockDriver(sb, clock, created.id);
		const resetIn = created.resetAt - clock.now();
		expect(resetIn).toBeGreaterThanOrEqual(WINDOW_MS);
		// The trigger's first GET used up the window the create opened: its answer said Remaining 0
		// with the create's reset, about 18 s ahead (a window the trigger did not open: its reset is
		// all it knows). The next poll hands that wait back to the client's poll, which sleeps it.
		expect(drive.gets).toEqual([{ at: 0, status: 200 }]);
		sb.startCall(created.id);
		const moved: number[] = [];
		while (drive.gets.length === 1) moved.push(await drive.step());
		expect(drive.gets).toEqual([
			{ at: 0, status: 200 },
			{ at: resetIn, status: 200 },
		]);
		await waitFor(() => streamOpened(created.id), 20_000, 'the stream');
		expect(drive.gets).toHaveLength(2); // the GET at the reset brought the stream
		expect(sb.requests.filter((r) => r.status === 429)).toEqual([]);
		const lines = logLines.slice(logsBefore);
		// The wait for the reset was handed to the client's poll, not slept inside the token fetch: the
		// last poll wait announced is the rest of the way to the reset, longer than the 10 s timeout.
		expect(announcedWaits(lines)).toEqual(moved);
		expect(moved.reduce((a, b) => a + b, 0)).toBe(resetIn);
		expect(moved.at(-1)).toBeGreaterThan(10_000);
		expect(failures(lines)).toEqual([]);
		expect(t.errors).toHaveLength(0);
	});
});
