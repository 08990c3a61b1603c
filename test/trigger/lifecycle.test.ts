import { TriggerCloseError } from 'n8n-workflow';

import type { KallglotSandbox } from '../../sandbox';
import { activateTrigger, logLines, waitFor } from '../helpers/trigger';
import { FakeClock } from '../helpers/clock';
import { clockDriver, createSessionId, sandboxPerTest } from './helpers';

let sandbox: KallglotSandbox;
const track = sandboxPerTest((started) => (sandbox = started));
const credentials = () => ({ apiKey: sandbox.apiKey, baseUrl: sandbox.baseUrl });
const lastSession = () => [...sandbox.sessions.keys()].at(-1) as string;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function listen(parameters: Record<string, unknown>, mode: 'trigger' | 'manual' = 'trigger', clock?: FakeClock) {
	return track(
		await activateTrigger({
			parameters: { sessionSource: 'create', mode: 'bidirectional_translation', ...parameters } as never,
			credentials: credentials(),
			mode,
			clock,
		}),
	);
}

const createSessionDirectly = () => createSessionId(sandbox);

describe('activation fails with a NodeOperationError that says what to fix', () => {
	test('a wrong API key', async () => {
		const activation = activateTrigger({ parameters: { sessionSource: 'create' } as never, credentials: { ...credentials(), apiKey: 'sk_test_wrong' } });
		await expect(activation).rejects.toMatchObject({ name: 'NodeOperationError', message: expect.stringMatching(/Could not create the session: Kallglot 401 invalid_api_key/) });
		await expect(activation).rejects.toMatchObject({ description: expect.stringMatching(/Check the Kallglot credential/) });
	});

	test('an unknown session id', async () => {
		const activation = activateTrigger({ parameters: { sessionSource: 'existing', sessionId: 'sess_UNKNOWN' } as never, credentials: credentials() });
		await expect(activation).rejects.toMatchObject({ name: 'NodeOperationError', message: expect.stringMatching(/Could not fetch session sess_UNKNOWN: Kallglot 404 session_not_found/) });
	});

	test('a malformed session id never reaches Kallglot', async () => {
		const activation = activateTrigger({ parameters: { sessionSource: 'existing', sessionId: 'call-42' } as never, credentials: credentials() });
		await expect(activation).rejects.toThrow(/Session ID "call-42".*sess_/);
		expect(sandbox.requests).toHaveLength(0);
	});

	test('an ended session', async () => {
		const id = await createSessionDirectly();
		sandbox.endSession(id);
		const activation = activateTrigger({ parameters: { sessionSource: 'existing', sessionId: id } as never, credentials: credentials() });
		await expect(activation).rejects.toMatchObject({ message: `Session ${id} has already ended`, description: expect.stringMatching(/create a new session/) });
	});

	test('a refused handshake; the session the trigger created is ended again', async () => {
		sandbox.setStreamFaults('*', { refuseHandshakes: { count: 1, status: 503 } });
		const activation = activateTrigger({ parameters: { sessionSource: 'create', mode: 'bidirectional_translation' } as never, credentials: credentials() });
		await expect(activation).rejects.toMatchObject({ name: 'NodeOperationError', message: expect.stringMatching(/Could not open the stream of session sess_\w+/) });
		expect(sandbox.sessions.get(lastSession())?.status).toBe('ended');
		expect(sandbox.openStreamCount()).toBe(0);
	});

	test('an invalid Create field fails activation before any session exists', async () => {
		const activation = activateTrigger({
			parameters: { sessionSource: 'create', mode: 'bidirectional_translation', voice: { speed: 9 } } as never,
			credentials: credentials(),
		});
		await expect(activation).rejects.toThrow(/Voice › Speed 9/);
		expect(sandbox.requests).toHaveLength(0);
	});
});

describe('the stream survives the network', () => {
	test('an existing session: token fetched with GET, events flow', async () => {
		const id = await createSessionDirectly();
		const t = track(await activateTrigger({ parameters: { sessionSource: 'existing', sessionId: id } as never, credentials: credentials() }));
		expect(sandbox.requests.filter((r) => r.method === 'GET' && r.path === `/v1/sessions/${id}`)).toHaveLength(1);
		await sandbox.play(id, { intervalMs: 5 });
		await t.waitForItems(8);
	});

	test('a drop mid-call: reconnect with a fresh token, replayed frames emitted once, gap notice on request', async () => {
		const t = await listen({ options: { emitReconnects: true } });
		const id = lastSession();
		sandbox.setStreamFaults(id, { dropAfterFrames: 8, replayOnReconnect: 5 });
		await sandbox.play(id, { intervalMs: 5, endWhenDone: true });
		const items = await t.waitForItems(8 + 2);
		const finals = items.filter((i) => i.event === 'transcript.final');
		expect(finals.map((i) => i.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
		expect(items.filter((i) => i.event === 'stream.reconnected')).toHaveLength(1);
		expect(items.at(-1)).toMatchObject({ event: 'session.ended', stream: { reconnects: 1, duplicatesDropped: expect.any(Number) } });
		expect((items.at(-1)?.stream as { duplicatesDropped: number }).duplicatesDropped).toBeGreaterThan(0);
		const handshakes = sandbox.handshakes.filter((h) => h.sessionId === id && h.status === 101);
		expect(handshakes).toHaveLength(2);
		expect(handshakes[0].token).not.toEqual(handshakes[1].token);
	});

	test('keepalive: a stream that stops answering pings is lost after exactly two silent ping intervals and reconnected (fake clock)', async () => {
		const clock = new FakeClock();
		const from = logLines.length;
		const t = await listen({ options: { pingIntervalSeconds: 1 } }, 'trigger', clock);
		const id = lastSession();
		const accepted = () => sandbox.handshakes.filter((h) => h.sessionId === id && h.status === 101).length;
		sandbox.setStreamFaults(id, { ignorePings: true });
		const drive = await clockDriver(sandbox, clock, id);
		while (accepted() < 2) await drive.step(() => accepted() >= 2);
		const lost = logLines.slice(from).filter((l) => l.includes('connection lost'));
		expect(lost).toHaveLength(1);
		expect(lost[0]).toContain('no frame and no pong for 2000 ms (keepalive)');
		sandbox.setStreamFaults(id, {});
		await sandbox.play(id, { intervalMs: 5 });
		await t.waitForItems(8);
	});

	test('a session that ended stops the loop: no retry, no error (fake clock: no timer left, a minute later still nothing)', async () => {
		const clock = new FakeClock();
		const t = await listen({}, 'trigger', clock);
		const id = lastSession();
		sandbox.endSession(id, 'hangup');
		await t.waitForItems(1);
		await waitFor(() => (clock.pending === 0 ? true : undefined), 10_000, 'every timer cleared');
		await clock.advance(60_000);
		expect(t.items).toEqual([expect.objectContaining({ event: 'session.ended', reason: 'hangup' })]);
		expect(sandbox.handshakes.filter((h) => h.sessionId === id)).toHaveLength(1);
		expect(t.errors).toHaveLength(0);
	});

	test('Create the Next Session: listens to a new session after each end', async () => {
		const t = await listen({ afterSessionEnds: 'createNext' });
		const first = lastSession();
		await sandbox.play(first, { intervalMs: 5, endWhenDone: true });
		await waitFor(() => (sandbox.sessions.size === 2 && sandbox.openStreamCount(lastSession()) === 1 ? true : undefined), 5000, 'the next session');
		const second = lastSession();
		expect(second).not.toBe(first);
		await sandbox.play(second, { intervalMs: 5, endWhenDone: true });
		const items = await t.waitForItems(18);
		expect(items.filter((i) => i.event === 'session.ended').map((i) => i.sessionId)).toEqual([first, second]);
	});

	test('the next session cannot be created: tries again 1 s, then 2 s later (fake clock); deactivating during a wait ends it at once, nothing after', async () => {
		const clock = new FakeClock();
		// Keepalive beyond what the test moves the clock: the only waits are the listener's.
		const t = await listen({ afterSessionEnds: 'createNext', options: { pingIntervalSeconds: 3600 } }, 'trigger', clock);
		sandbox.injectFault({ method: 'POST', path: '/v1/sessions', status: 400, code: 'invalid_request', times: 100 });
		sandbox.endSession(lastSession());
		// After the one that created the first session.
		const creates = () => sandbox.requests.filter((r) => r.method === 'POST' && r.path === '/v1/sessions').length - 1;
		/** The listener waits before its next attempt: a timer of exactly `ms` on its clock. */
		const waiting = (ms: number) => (clock.delays.includes(ms) ? true : undefined);
		await waitFor(() => waiting(1000), 10_000, 'the wait after the first attempt');
		expect(creates()).toBe(1);
		await clock.advance(999);
		expect(creates()).toBe(1);
		await clock.advance(1);
		await waitFor(() => waiting(2000), 10_000, 'the wait after the second attempt');
		expect(creates()).toBe(2);
		// Close during the wait: it returns without the clock moving, and leaves no timer behind.
		await t.close();
		expect(clock.pending).toBe(0);
		await clock.advance(60_000);
		expect(creates()).toBe(2);
		expect(t.errors).toHaveLength(0);
	});

	test('retry budget spent: its 2 attempts each at its announced wait, then the trigger reports through emitError, once (fake clock)', async () => {
		const clock = new FakeClock();
		const from = logLines.length;
		const t = await listen({ options: { maxReconnectAttempts: 2, maxReconnectDelaySeconds: 1 } }, 'trigger', clock);
		const id = lastSession();
		sandbox.setStreamFaults(id, { dropAfterFrames: 3, refuseHandshakes: { count: 100, status: 503 } });
		void sandbox.play(id, { intervalMs: 5, waitForListener: false });
		for (const attempt of [1, 2]) {
			const pattern = new RegExp(`reconnect attempt ${attempt} of 2 in (\\d+) ms`);
			const wait = Number(await waitFor(() => logLines.slice(from).map((l) => pattern.exec(l)?.[1]).find((v) => v !== undefined), 10_000, `attempt ${attempt}`));
			expect(wait).toBeLessThanOrEqual(1000); // maxReconnectDelaySeconds
			const refused = sandbox.handshakes.filter((h) => h.sessionId === id && h.status === 503).length;
			await clock.advance(wait);
			await waitFor(() => (sandbox.handshakes.filter((h) => h.sessionId === id && h.status === 503).length > refused ? true : undefined), 10_000, `attempt ${attempt}'s handshake`);
		}
		const error = await t.waitForError();
		expect(error.message).toMatch(new RegExp(`Lost the stream of session ${id} and could not reconnect`));
		await waitFor(() => (clock.pending === 0 ? true : undefined), 10_000, 'every timer cleared');
		await clock.advance(60_000);
		expect(t.errors).toHaveLength(1);
		expect(sandbox.handshakes.filter((h) => h.sessionId === id && h.status === 503)).toHaveLength(2);
	});
});

describe('manual test and close', () => {
	test('manual: emits the first matching event once, and close ends the session it created', async () => {
		const t = await listen({}, 'manual');
		const id = lastSession();
		await sandbox.play(id, { intervalMs: 5 });
		await t.waitForItems(1);
		await sleep(100);
		expect(t.emits).toBe(1);
		await t.close();
		expect(sandbox.sessions.get(id)?.status).toBe('ended');
		expect(sandbox.openStreamCount()).toBe(0);
	});

	test('deactivate while streaming: socket closed, created session ended, nothing after close', async () => {
		const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
		const t = await listen({});
		const id = lastSession();
		const playing = sandbox.play(id, { intervalMs: 20, waitForListener: false });
		await t.waitForItems(1);
		await t.close();
		await t.close(); // idempotent
		const emitted = t.emits;
		await playing;
		await sleep(200);
		expect(t.emits).toBe(emitted);
		expect(sandbox.openStreamCount()).toBe(0);
		expect(sandbox.sessions.get(id)?.status).toBe('ended');
		expect(sandbox.requests.filter((r) => r.path === `/v1/sessions/${id}/end`)).toHaveLength(1);
		// No keepalive, watchdog or backoff timer of the trigger outlives it (process-wide count:
		// pooled keep-alive sockets of the test's HTTP calls hold timers for a few seconds).
		const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
		await waitFor(() => (timers() <= timersBefore ? true : undefined), 8000, 'process timers back to the baseline');
	});

	test('deactivate during backoff: no reconnect afterwards (fake clock: the backoff timer goes with the close)', async () => {
		const clock = new FakeClock();
		const from = logLines.length;
		const t = await listen({}, 'trigger', clock);
		const id = lastSession();
		sandbox.setStreamFaults(id, { dropAfterFrames: 2 });
		void sandbox.play(id, { intervalMs: 5, waitForListener: false });
		// The time does not move: the trigger stays in its backoff until the close.
		await waitFor(() => (logLines.slice(from).some((l) => /reconnect attempt 1 of \d+ in \d+ ms/.test(l)) ? true : undefined), 10_000, 'the backoff');
		await t.close();
		const handshakes = sandbox.handshakes.length;
		expect(clock.pending).toBe(0);
		await clock.advance(60_000);
		expect(sandbox.handshakes.length).toBe(handshakes);
		expect(sandbox.handshakes.filter((h) => h.sessionId === id)).toHaveLength(1);
		expect(sandbox.openStreamCount()).toBe(0);
	});

	test('deactivate while reconnecting (token request in flight): no socket is left open', async () => {
		const t = await listen({});
		const id = lastSession();
		sandbox.injectFault({ method: 'GET', path: `/v1/sessions/${id}`, delayMs: 1500 });
		sandbox.setStreamFaults(id, { dropAfterFrames: 2 });
		void sandbox.play(id, { intervalMs: 5, waitForListener: false });
		await waitFor(() => (sandbox.requests.some((r) => r.method === 'GET' && r.path === `/v1/sessions/${id}`) ? true : undefined), 5000, 'the token request');
		await t.close();
		await sleep(2000);
		expect(sandbox.openStreamCount()).toBe(0);
		expect(sandbox.handshakes.filter((h) => h.sessionId === id)).toHaveLength(1);
	});

	test('End Created Session on Deactivate off: the session keeps running, the trigger leaves no socket or timer', async () => {
		const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
		const t = await listen({ options: { endSessionOnDeactivate: false } });
		const id = lastSession();
		await sandbox.play(id, { intervalMs: 5 });
		await t.waitForItems(8);
		await t.close();
		expect(sandbox.sessions.get(id)?.status).not.toBe('ended');
		await waitFor(() => (sandbox.openStreamCount() === 0 ? true : undefined), 2000, 'the socket to close');
		// No keepalive, watchdog or backoff timer of the trigger outlives it (process-wide count:
		// pooled keep-alive sockets of the test's HTTP calls hold timers for a few seconds).
		const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
		await waitFor(() => (timers() <= timersBefore ? true : undefined), 8000, 'process timers back to the baseline');
	});

	test('an existing session is never ended by the trigger', async () => {
		const id = await createSessionDirectly();
		const t = await activateTrigger({ parameters: { sessionSource: 'existing', sessionId: id } as never, credentials: credentials() });
		await t.close();
		expect(sandbox.sessions.get(id)?.status).not.toBe('ended');
		expect(sandbox.openStreamCount()).toBe(0);
	});

	test('ending the session fails: deactivation still completes with a TriggerCloseError warning', async () => {
		const t = await listen({});
		const id = lastSession();
		sandbox.injectFault({ path: `/v1/sessions/${id}/end`, status: 500, times: 10 });
		const error = await t.close().catch((e: unknown) => e);
		expect(error).toBeInstanceOf(TriggerCloseError);
		expect(error).toMatchObject({ level: 'warning', cause: { message: expect.stringMatching(/Could not end the session .*end it in Kallglot to stop billing/) } });
		expect(sandbox.openStreamCount()).toBe(0);
	});

	test('no secret in any item, error or log line', async () => {
		logLines.length = 0;
		const t = await listen({ events: ['finals', 'ready', 'ended', 'errors'], options: { emitReconnects: true, includeRaw: true } });
		const id = lastSession();
		sandbox.setStreamFaults(id, { dropAfterFrames: 4 });
		await sandbox.play(id, { intervalMs: 5, endWhenDone: true });
		await t.waitForItems(8);
		await t.close();
		const failed = await activateTrigger({ parameters: { sessionSource: 'existing', sessionId: id } as never, credentials: credentials() }).catch((e: Error) => e);
		const tokens = sandbox.handshakes.map((h) => h.token);
		const everything = JSON.stringify({ items: t.items, errors: t.errors.map((e) => e.message), logLines, failed: String(failed) });
		expect(tokens.length).toBeGreaterThan(1);
		for (const secret of [sandbox.apiKey, ...tokens]) expect(everything).not.toContain(secret);
	});
});
