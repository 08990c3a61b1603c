/**
 * Sessions that are not live yet (`stream` only for active sessions), and how the
 * end is reported when the stream closes without a session.ended frame.
 */
import { BILINGUAL_CALL, type KallglotSandbox } from '../../sandbox';
import { STREAM_CLOSED_REASON } from '../../nodes/KallglotTrigger/listener';
import { activateTrigger, logLines, waitFor, type ActiveTrigger } from '../helpers/trigger';
import { serverSockets } from '../stream/helpers';
import { createSessionId, sandboxPerTest } from './helpers';

let sandbox: KallglotSandbox;
const track = sandboxPerTest((started) => (sandbox = started), { streamOnlyWhileActive: true });
const credentials = () => ({ apiKey: sandbox.apiKey, baseUrl: sandbox.baseUrl });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const createSessionDirectly = () => createSessionId(sandbox);

const gets = (id: string) => sandbox.requests.filter((r) => r.method === 'GET' && r.path === `/v1/sessions/${id}`);
const accepted = (id: string) => sandbox.handshakes.filter((h) => h.sessionId === id && h.status === 101);

async function listenTo(id: string): Promise<ActiveTrigger> {
	return track(await activateTrigger({ parameters: { sessionSource: 'existing', sessionId: id } as never, credentials: credentials() }));
}

describe('an existing session whose call has not started', () => {
	test('is accepted at activation; the trigger polls GET with backoff and connects once the call starts', async () => {
		const id = await createSessionDirectly();
		const logFrom = logLines.length;
		const t = await listenTo(id);
		expect(logLines.some((l) => l.includes(`${id} is not live yet (status created): the trigger waits for the call to start`))).toBe(true);
		expect(sandbox.handshakes.filter((h) => h.sessionId === id)).toHaveLength(0);

		await waitFor(() => (gets(id).length >= 3 ? true : undefined), 15_000, 'a few polls');
		// Backoff: the waits it announces grow (1 s, then 2 s, ±20 %), and no two polls come sooner
		// than a wait. Arrival gaps alone cannot show the growth: a busy machine stretches both.
		const waits = logLines
			.slice(logFrom)
			.map((l) => /not live yet; checking again in (\d+) ms/.exec(l)?.[1])
			.filter(Boolean)
			.map(Number);
		expect(waits.length).toBeGreaterThanOrEqual(2);
		expect(waits[1]).toBeGreaterThan(waits[0]);
		expect(waits[0]).toBeGreaterThanOrEqual(800);
		const at = gets(id).map((r) => r.at);
		expect(at[2] - at[0]).toBeGreaterThanOrEqual(waits[0] - 20);
		expect(t.errors).toHaveLength(0);

		sandbox.startCall(id);
		await waitFor(() => (accepted(id).length === 1 ? true : undefined), 20_000, 'the stream to open once the call started');
		await sandbox.play(id, { intervalMs: 5, endWhenDone: true });
		const items = await t.waitForItems(BILINGUAL_CALL.length + 1);
		expect(items.filter((i) => i.event === 'transcript.final').map((i) => i.sequence)).toEqual(BILINGUAL_CALL.map((_, k) => k + 1));
		expect(items.at(-1)).toMatchObject({ event: 'session.ended', reason: 'call_completed' });
		expect(t.errors).toHaveLength(0);
	});

	test('ends listening only when the session ends while it waits; the ended item carries a stated reason', async () => {
		const id = await createSessionDirectly();
		const t = await listenTo(id);
		sandbox.endSession(id, 'never_answered');
		const [ended] = await t.waitForItems(1, 20_000);
		// the reason comes from the session (GET's end_reason)
		expect(ended).toMatchObject({ event: 'session.ended', sessionId: id, reason: 'never_answered' });
		const polls = gets(id).length;
		await sleep(2500);
		expect(gets(id)).toHaveLength(polls);
		expect(t.errors).toHaveLength(0);
	});
});

describe('the stream closes without session.ended', () => {
	test('the ended item carries the reason the session reports', async () => {
		const id = await createSessionDirectly();
		sandbox.startCall(id);
		const t = await listenTo(id);
		await sandbox.play(id, { intervalMs: 5 });
		await t.waitForItems(BILINGUAL_CALL.length);
		sandbox.endSession(id, 'hangup', { announce: false });
		const items = await t.waitForItems(BILINGUAL_CALL.length + 1);
		expect(items.at(-1)).toMatchObject({ event: 'session.ended', reason: 'hangup' });
		expect(items.filter((i) => i.event === 'session.ended')).toHaveLength(1);
	});

	test('…or "stream_closed" when Kallglot reports none (the session is gone: 404)', async () => {
		const id = await createSessionDirectly();
		sandbox.startCall(id);
		const t = await listenTo(id);
		// Kallglot forgets the session and the stream drops: the reconnect's GET answers 404.
		sandbox.sessions.delete(id);
		for (const ws of serverSockets(sandbox, id)) ws.terminate();
		const [ended] = await t.waitForItems(1, 20_000);
		expect(ended).toMatchObject({ event: 'session.ended', reason: STREAM_CLOSED_REASON });
		expect(t.errors).toHaveLength(0);
	});
});

describe('a drop while GET shows no stream', () => {
	test('reconnects with the kept token while it is unexpired', async () => {
		const id = await createSessionDirectly();
		sandbox.startCall(id);
		const t = await listenTo(id);
		expect(accepted(id)).toHaveLength(1);
		// The session stops showing `stream` (not active right now), then the stream drops.
		sandbox.sessions.get(id)!.status = 'created';
		sandbox.setStreamFaults(id, { dropAfterFrames: 2 });
		await sandbox.play(id, { intervalMs: 5 });
		await waitFor(() => (accepted(id).length === 2 ? true : undefined), 10_000, 'a reconnect');
		expect(accepted(id)[1].token).toBe(accepted(id)[0].token);
		await t.waitForItems(BILINGUAL_CALL.length);
		expect(t.errors).toHaveLength(0);
	});
});
