/**
 * close() during connect, during backoff and while streaming: idempotent, sockets closed on the
 * server side, no callback afterwards, no timer or socket left behind.
 */
import type { KallglotSandbox } from '../../sandbox';
import { KallglotStreamClient, type EndpointResult } from '../../nodes/shared/stream/client';
import { StreamClientError } from '../../nodes/shared/stream/errors';
import {
	activeTimers,
	createSession,
	handshakesOf,
	recorder,
	recordingClient,
	restResolver,
	sandboxPerFile,
	sleep,
	waitFor,
	type Recorder,
} from './helpers';

let sandbox: KallglotSandbox;
// close() is what these tests check: each closes its clients itself, none is tracked
sandboxPerFile((started) => (sandbox = started));

const clean = { timers: [], socketListeners: null, retiringSockets: 0 };

/** After close(): nothing more happens for a while. */
async function expectSilenceAfterClose(client: KallglotStreamClient, rec: Recorder, sessionId: string) {
	const calls = rec.calls.length;
	const logs = rec.logs.length;
	const handshakes = handshakesOf(sandbox, sessionId).length;
	await sleep(200);
	expect(rec.calls.slice(calls)).toEqual([]);
	expect(rec.logs.slice(logs)).toEqual([]);
	expect(handshakesOf(sandbox, sessionId)).toHaveLength(handshakes);
	expect(client.state).toBe('closed');
	expect(client.diagnostics()).toEqual(clean);
	expect(sandbox.openStreamCount(sessionId)).toBe(0);
}

describe('close()', () => {
	it('while streaming: close 1000, idempotent, no callback afterwards, no timer left', async () => {
		const session = await createSession(sandbox);
		const timersBefore = activeTimers();
		const rec = recorder();
		const client = recordingClient(rec, { resolveEndpoint: restResolver(sandbox, session.id) });
		await client.start();
		const playing = sandbox.play(session.id, { intervalMs: 5 });
		await waitFor('some events', () => rec.events.length >= 4);
		expect(sandbox.openStreamCount(session.id)).toBe(1);
		expect(client.diagnostics().timers.sort()).toEqual(['ping', 'stable', 'watchdog']);

		const first = client.close();
		const second = client.close();
		expect(second).toBe(first);
		expect(client.state).toBe('closed');
		await first;
		expect(client.close()).toBe(first);
		expect(sandbox.openStreamCount(session.id)).toBe(0); // the server saw the close before close() resolved
		expect(client.send('{"type":"ping"}')).toBe(false);
		await expectSilenceAfterClose(client, rec, session.id);

		sandbox.endSession(session.id); // let the script stop
		await playing;
		// Process-wide count: fetch's pooled keep-alive sockets hold timers for a few seconds
		// after the test's REST calls, so wait for them; the client's own are checked above.
		await waitFor('process timers back to the baseline', () => activeTimers() <= timersBefore, 8000);
	});

	it('during connect (resolveEndpoint pending): start() rejects with closed, nothing connects later', async () => {
		const session = await createSession(sandbox);
		const rec = recorder();
		const rest = restResolver(sandbox, session.id);
		let release: () => void = () => undefined;
		const gate = new Promise<void>((resolve) => (release = resolve));
		const client = recordingClient(rec, {
			resolveEndpoint: async (attempt): Promise<EndpointResult> => {
				await gate;
				return rest(attempt);
			},
		});
		const starting = client.start();
		expect(client.start()).toBe(starting);
		await sleep(10);
		expect(client.state).toBe('connecting');
		const closing = client.close();
		await expect(starting).rejects.toMatchObject({ kind: 'closed' });
		await closing;
		release(); // the endpoint arrives after close(): it must be ignored
		await expectSilenceAfterClose(client, rec, session.id);
		expect(handshakesOf(sandbox, session.id)).toHaveLength(0);
	});

	it('during connect (socket open, waiting for session.ready): the socket is closed', async () => {
		const session = await createSession(sandbox);
		sandbox.setStreamFaults(session.id, { silent: true });
		const rec = recorder();
		const client = recordingClient(rec, { resolveEndpoint: restResolver(sandbox, session.id) });
		const starting = client.start();
		await waitFor('server accepted', () => sandbox.openStreamCount(session.id) === 1);
		expect(client.state).toBe('connecting');
		const failed = starting.catch((e: unknown) => e);
		await client.close();
		const error = await failed;
		expect(error).toBeInstanceOf(StreamClientError);
		expect(error).toMatchObject({ kind: 'closed' });
		await waitFor('server side closed', () => sandbox.openStreamCount(session.id) === 0);
		await expectSilenceAfterClose(client, rec, session.id);
	});

	it('during backoff: the pending reconnect is cancelled', async () => {
		const session = await createSession(sandbox);
		const rec = recorder();
		const client = recordingClient(rec, {
			resolveEndpoint: restResolver(sandbox, session.id),
			reconnect: { initialDelayMs: 150, maxDelayMs: 150, jitter: 0 },
		});
		await client.start();
		sandbox.setStreamFaults(session.id, { dropAfterFrames: 1 });
		await waitFor('backoff', () => client.state === 'backoff');
		expect(client.diagnostics().timers).toEqual(['backoff']);
		await client.close();
		await expectSilenceAfterClose(client, rec, session.id);
		expect(handshakesOf(sandbox, session.id)).toHaveLength(1);
		expect(rec.reconnected).toEqual([]);
	});

	it('from inside onEvent: no further event is delivered', async () => {
		const session = await createSession(sandbox);
		const rec = recorder();
		let closing: Promise<void> | null = null;
		const client: KallglotStreamClient = recordingClient(rec, {
			resolveEndpoint: restResolver(sandbox, session.id),
			onEvent: (e) => {
				rec.events.push(e);
				if (e.type === 'transcript.partial') closing = client.close();
			},
		});
		await client.start();
		sandbox.sendFrame(session.id, { type: 'transcript.partial', speaker: 'agent', text: 'a', sequence: 1 });
		sandbox.sendFrame(session.id, { type: 'transcript.final', speaker: 'agent', text: 'a b', sequence: 1 });
		await waitFor('close called', () => closing !== null);
		await closing;
		await sleep(50);
		expect(rec.events.map((e) => e.type)).toEqual(['session.ready', 'transcript.partial']);
		expect(client.state).toBe('closed');
	});

	it('after the session ended: resolves, stays quiet', async () => {
		const session = await createSession(sandbox);
		const rec = recorder();
		const client = recordingClient(rec, { resolveEndpoint: restResolver(sandbox, session.id) });
		await client.start();
		sandbox.endSession(session.id);
		await waitFor('onEnded', () => rec.ended.length === 1);
		await client.close(100);
		await expectSilenceAfterClose(client, rec, session.id);
	});

	it('close() before start(): start() rejects with closed and never connects', async () => {
		const rec = recorder();
		let resolves = 0;
		const client = recordingClient(rec, {
			resolveEndpoint: async () => {
				resolves++;
				return { kind: 'ended' };
			},
		});
		await client.close();
		await expect(client.start()).rejects.toMatchObject({ kind: 'closed' });
		expect(resolves).toBe(0);
	});
});
