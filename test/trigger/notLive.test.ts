/**
 * Sessions that are not live yet (`stream` only for active sessions), and how the
 * end is reported when the stream closes without a session.ended frame.
 */
import { BILINGUAL_CALL, type KallglotSandbox } from '../../sandbox';
import { SESSION_CACHE_MS, STREAM_CLOSED_REASON } from '../../nodes/KallglotTrigger/listener';
import { FakeClock } from '../helpers/clock';
import { activateTrigger, logLines, waitFor, type ActiveTrigger } from '../helpers/trigger';
import { serverSockets } from '../stream/helpers';
import { announcedWaits, clockDriver, createSessionId, expectedGetTimes, sandboxPerTest } from './helpers';

let sandbox: KallglotSandbox;
const track = sandboxPerTest((started) => (sandbox = started), { streamOnlyWhileActive: true });
const credentials = () => ({ apiKey: sandbox.apiKey, baseUrl: sandbox.baseUrl });

const createSessionDirectly = () => createSessionId(sandbox);

const accepted = (id: string) => sandbox.handshakes.filter((h) => h.sessionId === id && h.status === 101);

async function listenTo(id: string, clock?: FakeClock): Promise<ActiveTrigger> {
	return track(await activateTrigger({ parameters: { sessionSource: 'existing', sessionId: id } as never, credentials: credentials(), clock }));
}

describe('an existing session whose call has not started (the trigger on a fake clock)', () => {
	test('is accepted at activation; the trigger polls GET exactly at its growing waits and connects once the call starts', async () => {
		const id = await createSessionDirectly();
		const logFrom = logLines.length;
		const clock = new FakeClock();
		const t = await listenTo(id, clock);
		expect(logLines.some((l) => l.includes(`${id} is not live yet (status created): the trigger waits for the call to start`))).toBe(true);
		expect(sandbox.handshakes.filter((h) => h.sessionId === id)).toHaveLength(0);

		const drive = await clockDriver(sandbox, clock, id);
		const moved = [await drive.step(), await drive.step(), await drive.step()];
		// Backoff: each wait is the one announced, 1 s, 2 s, 4 s (±20 %), and the polls come exactly then.
		const waits = announcedWaits(logLines.slice(logFrom)).slice(0, 3);
		expect(moved).toEqual(waits);
		waits.forEach((wait, k) => expect(Math.abs(wait - 1000 * 2 ** k)).toBeLessThanOrEqual(200 * 2 ** k));
		expect(drive.gets.map((g) => g.at)).toEqual(expectedGetTimes(waits, SESSION_CACHE_MS));
		expect(t.errors).toHaveLength(0);

		sandbox.startCall(id);
		const polled = drive.gets.length;
		while (drive.gets.length === polled) await drive.step();
		await waitFor(() => (accepted(id).length === 1 ? true : undefined), 20_000, 'the stream to open once the call started');
		await sandbox.play(id, { intervalMs: 5, endWhenDone: true });
		const items = await t.waitForItems(BILINGUAL_CALL.length + 1);
		expect(items.filter((i) => i.event === 'transcript.final').map((i) => i.sequence)).toEqual(BILINGUAL_CALL.map((_, k) => k + 1));
		expect(items.at(-1)).toMatchObject({ event: 'session.ended', reason: 'call_completed' });
		expect(t.errors).toHaveLength(0);
	});

	test('ends listening only when the session ends while it waits; the ended item carries a stated reason; no poll after it', async () => {
		const id = await createSessionDirectly();
		const clock = new FakeClock();
		const t = await listenTo(id, clock);
		const drive = await clockDriver(sandbox, clock, id);
		sandbox.endSession(id, 'never_answered');
		while (t.items.length === 0) await drive.step(() => t.items.length > 0);
		// the reason comes from the session (GET's end_reason)
		expect(t.items).toEqual([expect.objectContaining({ event: 'session.ended', sessionId: id, reason: 'never_answered' })]);
		expect(clock.pending).toBe(0);
		const polls = drive.gets.length;
		await clock.advance(60_000);
		expect(drive.gets).toHaveLength(polls);
		expect(sandbox.requests.filter((r) => r.method === 'GET' && r.path === `/v1/sessions/${id}`)).toHaveLength(polls);
		expect(t.errors).toHaveLength(0);
	});
});

/**
 * The wait the client announced before its first reconnect attempt ("reconnect attempt 1 of N in
 * X ms"), once logged after `from`, and checked to be the soonest timer armed on `clock`.
 */
async function firstReconnectWait(clock: FakeClock, from: number): Promise<number> {
	const wait = await waitFor(
		() => logLines.slice(from).map((l) => /reconnect attempt 1 of \d+ in (\d+) ms/.exec(l)?.[1]).find((v) => v !== undefined),
		10_000,
		'the reconnect to be scheduled',
	);
	expect(clock.delays[0]).toBe(Number(wait));
	return Number(wait);
}

/**
 * Moves `clock` to the reconnect `wait` ms ahead: first to 1 ms short of it, where `before` checks
 * that nothing happened yet (unless the wait is 0), then onto it, firing the reconnect.
 */
async function advanceToReconnect(clock: FakeClock, wait: number, before: () => void): Promise<void> {
	if (wait > 0) {
		await clock.advance(wait - 1);
		before();
	}
	await clock.advance(Math.min(wait, 1));
}

/** The GETs of session `id` the sandbox has seen. */
const sessionGets = (id: string) => sandbox.requests.filter((r) => r.method === 'GET' && r.path === `/v1/sessions/${id}`);

describe('the stream closes without session.ended (the trigger on a fake clock: the reconnect comes exactly after its announced wait)', () => {
	test('the ended item carries the reason the session reports', async () => {
		const id = await createSessionDirectly();
		sandbox.startCall(id);
		const clock = new FakeClock();
		const t = await listenTo(id, clock);
		await sandbox.play(id, { intervalMs: 5 });
		await t.waitForItems(BILINGUAL_CALL.length);
		const from = logLines.length;
		const gets = sessionGets(id).length;
		sandbox.endSession(id, 'hangup', { announce: false });
		const wait = await firstReconnectWait(clock, from);
		// Nothing asked before the wait is over.
		await advanceToReconnect(clock, wait, () => expect(sessionGets(id)).toHaveLength(gets));
		const items = await t.waitForItems(BILINGUAL_CALL.length + 1);
		expect(sessionGets(id)).toHaveLength(gets + 1);
		expect(items.at(-1)).toMatchObject({ event: 'session.ended', reason: 'hangup' });
		expect(items.filter((i) => i.event === 'session.ended')).toHaveLength(1);
		expect(t.errors).toHaveLength(0);
	});

	test('…or "stream_closed" when Kallglot reports none (the session is gone: 404)', async () => {
		const id = await createSessionDirectly();
		sandbox.startCall(id);
		const clock = new FakeClock();
		const t = await listenTo(id, clock);
		const from = logLines.length;
		// Kallglot forgets the session and the stream drops: the reconnect's GET answers 404.
		sandbox.sessions.delete(id);
		for (const ws of serverSockets(sandbox, id)) ws.terminate();
		const wait = await firstReconnectWait(clock, from);
		await advanceToReconnect(clock, wait, () => expect(t.items).toHaveLength(0));
		const [ended] = await t.waitForItems(1);
		expect(ended).toMatchObject({ event: 'session.ended', reason: STREAM_CLOSED_REASON });
		expect(sessionGets(id).at(-1)?.status).toBe(404);
		expect(t.errors).toHaveLength(0);
	});
});

describe('a drop while GET shows no stream (the trigger on a fake clock)', () => {
	test('reconnects with the kept token while it is unexpired, exactly after the announced wait', async () => {
		const id = await createSessionDirectly();
		sandbox.startCall(id);
		const clock = new FakeClock();
		const t = await listenTo(id, clock);
		expect(accepted(id)).toHaveLength(1);
		const from = logLines.length;
		// The session stops showing `stream` (not active right now), then the stream drops.
		sandbox.sessions.get(id)!.status = 'created';
		sandbox.setStreamFaults(id, { dropAfterFrames: 2 });
		// The call goes on while the trigger is away: it ends once the reconnected stream has had it.
		const playing = sandbox.play(id, { intervalMs: 5 });
		const wait = await firstReconnectWait(clock, from);
		await advanceToReconnect(clock, wait, () => expect(accepted(id)).toHaveLength(1));
		await waitFor(() => (accepted(id).length === 2 ? true : undefined), 10_000, 'a reconnect');
		await playing;
		expect(accepted(id)[1].token).toBe(accepted(id)[0].token);
		await t.waitForItems(BILINGUAL_CALL.length);
		expect(t.errors).toHaveLength(0);
	});
});
