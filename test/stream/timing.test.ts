/**
 * The stream client's timers on a fake clock, step by step: connect timeout, reconnect backoff
 * (first retry within 0.25 s, then 1 s doubling), the retry budget, keepalive (a ping per interval,
 * dead after two silent intervals), and the stable connection that resets the budget. The sockets
 * are real (the sandbox over loopback); only time is fake, so a busy machine changes nothing here.
 * Jitter is pinned to its midpoint (random 0.5), which makes every wait its exact step.
 */
import type { KallglotSandbox } from '../../sandbox';
import { StreamClientError } from '../../nodes/shared/stream/errors';
import { FakeClock } from '../helpers/clock';
import {
	ResolveError,
	createSession,
	recorder,
	recordingClient,
	restResolver,
	sandboxPerFile,
	serverSockets,
	waitFor,
} from './helpers';

let sandbox: KallglotSandbox;
const track = sandboxPerFile((started) => (sandbox = started));
/** Far beyond what a test moves the clock: no ping and no watchdog unless the test is about them. */
const NO_KEEPALIVE = 3_600_000;

describe('connect timeout (fake clock)', () => {
	it('start() fails with a timeout exactly connectTimeoutMs after an endpoint that never answers', async () => {
		const clock = new FakeClock();
		const rec = recorder();
		const client = track(recordingClient(rec, { clock, connectTimeoutMs: 10_000, resolveEndpoint: () => new Promise(() => undefined) }));
		const started = client.start();
		const outcome = started.then(
			() => 'open',
			(error: StreamClientError) => error.kind,
		);
		await clock.advance(9_999);
		expect(client.state).toBe('connecting');
		await clock.advance(1);
		await expect(outcome).resolves.toBe('timeout');
		expect(clock.pending).toBe(0);
	});
});

describe('reconnect backoff (fake clock)', () => {
	/**
	 * A client whose first connection works and whose every later endpoint request fails, dropped
	 * and waiting in its first backoff. `asked`: the clock time of each endpoint request.
	 */
	async function droppedWithFailingEndpoint(maxAttempts: number) {
		const clock = new FakeClock();
		const session = await createSession(sandbox);
		const rec = recorder();
		const asked: number[] = [];
		const rest = restResolver(sandbox, session.id);
		const client = track(
			recordingClient(rec, {
				clock,
				random: () => 0.5,
				pingIntervalMs: NO_KEEPALIVE,
				reconnect: { maxAttempts },
				resolveEndpoint: async (attempt) => {
					asked.push(clock.now());
					if (attempt === 0) return await rest(attempt);
					throw new ResolveError('Kallglot is unavailable', false);
				},
			}),
		);
		await client.start();
		const lostAt = clock.now();
		for (const socket of serverSockets(sandbox, session.id)) socket.terminate();
		await waitFor('the drop', () => client.state === 'backoff');
		return { clock, rec, client, asked, lostAt };
	}

	it('after a drop: retries at +125 ms, then 1 s, 2 s, 4 s apart; gives up after maxAttempts; no timer left', async () => {
		const { clock, rec, client, asked, lostAt } = await droppedWithFailingEndpoint(4);
		expect(clock.delays).toEqual([125]); // only the backoff: keepalive and connect timers are gone
		while (rec.gaveUp.length === 0) await clock.fireNext();
		expect(asked.slice(1).map((at) => at - lostAt)).toEqual([125, 1125, 3125, 7125]);
		expect(rec.gaveUp[0].message).toContain('gave up after 4 consecutive failed reconnect attempt(s)');
		expect(client.state).toBe('closed');
		expect(clock.pending).toBe(0);
	});

	it('the full schedule: 1 s doubling to the 30 s ceiling', async () => {
		const { clock, rec, asked } = await droppedWithFailingEndpoint(8);
		while (rec.gaveUp.length === 0) await clock.fireNext();
		const gaps = asked.slice(2).map((at, k) => at - asked[k + 1]);
		expect(gaps).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
	});
});

describe('keepalive (fake clock)', () => {
	it('a ping every interval; a stream silent for exactly two intervals is lost; the first retry within 0.25 s brings it back', async () => {
		const clock = new FakeClock();
		const session = await createSession(sandbox);
		const rec = recorder();
		const client = track(
			recordingClient(rec, {
				clock,
				random: () => 0.5,
				pingIntervalMs: 15_000,
				reconnect: { maxAttempts: 10 },
				resolveEndpoint: restResolver(sandbox, session.id),
			}),
		);
		await client.start();
		await waitFor('session.ready', () => rec.events.some((e) => e.type === 'session.ready'));
		sandbox.setStreamFaults(session.id, { ignorePings: true, silent: true });
		const silentFrom = clock.now();
		const pingsBefore = client.stats.pingsSent;
		await clock.advance(15_000);
		expect(client.stats.pingsSent - pingsBefore).toBe(1);
		await clock.advance(14_999);
		expect(client.state).toBe('open');
		expect(rec.logs.filter((l) => l.msg.includes('keepalive'))).toEqual([]);
		await clock.advance(1);
		expect(client.state).toBe('backoff');
		const lost = rec.logs.find((l) => l.msg.includes('keepalive'));
		expect(lost?.at).toBe(silentFrom + 30_000);
		expect(lost?.msg).toContain('no frame and no pong for 30000 ms');
		expect(client.stats.pingsSent - pingsBefore).toBe(2); // at 15 s and at 30 s
		// The connection had been up 5 s after session.ready: a success, so the first retry is quick.
		expect(clock.delays).toEqual([125]);
		sandbox.setStreamFaults(session.id, {});
		await clock.fireNext();
		await waitFor('reconnected', () => rec.reconnected.length === 1);
		expect(rec.reconnected[0]).toEqual({ attempts: 1, downtimeMs: 125 });
		expect(client.state).toBe('open');
	});

	it('a frame between pings keeps the stream alive: the watchdog counts from the last frame', async () => {
		const clock = new FakeClock();
		const session = await createSession(sandbox);
		const rec = recorder();
		const client = track(recordingClient(rec, { clock, pingIntervalMs: 15_000, resolveEndpoint: restResolver(sandbox, session.id) }));
		await client.start();
		await waitFor('session.ready', () => rec.events.some((e) => e.type === 'session.ready'));
		sandbox.setStreamFaults(session.id, { ignorePings: true });
		await clock.advance(20_000);
		sandbox.sendFrame(session.id, { type: 'transcript.final', speaker: 'agent', text: 'still here', sequence: 1 });
		await waitFor('the frame', () => rec.events.some((e) => e.type === 'transcript.final'));
		const frameAt = clock.now();
		await clock.advance(frameAt + 30_000 - 1 - clock.now());
		expect(client.state).toBe('open');
		await clock.advance(1);
		expect(client.state).toBe('backoff');
		expect(rec.logs.find((l) => l.msg.includes('keepalive'))?.at).toBe(frameAt + 30_000);
	});
});

describe('a stable connection resets the retry budget (fake clock)', () => {
	it('stable exactly stableAfterMs after session.ready, not before', async () => {
		const clock = new FakeClock();
		const session = await createSession(sandbox);
		const rec = recorder();
		const client = track(
			recordingClient(rec, {
				clock,
				pingIntervalMs: NO_KEEPALIVE,
				reconnect: { stableAfterMs: 5000 },
				resolveEndpoint: restResolver(sandbox, session.id),
			}),
		);
		await client.start();
		await waitFor('session.ready', () => rec.events.some((e) => e.type === 'session.ready'));
		await clock.advance(4_999);
		expect(client.budget.stable).toBe(false);
		await clock.advance(1);
		expect(client.budget).toEqual({ stable: true, failedAttempts: 0 });
	});
});
