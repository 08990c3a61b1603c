/**
 * Stream client against the Kallglot sandbox over loopback: events, start() failures, bad frames,
 * unknown events, throwing callbacks, secrets in logs.
 */
import { createServer } from 'node:net';
import { BILINGUAL_CALL, expectedCallFrames, type KallglotSandbox } from '../../sandbox';
import { StreamClientError } from '../../nodes/shared/stream/errors';
import type { StreamEvent } from '../../nodes/shared/wire';
import { FakeClock } from '../helpers/clock';
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

let sandbox: KallglotSandbox;
const track = sandboxPerFile((started) => (sandbox = started));

/** Our event vocabulary, reduced to what the script defines. */
function project(e: StreamEvent) {
	switch (e.type) {
		case 'transcript.partial':
			return { type: e.type, speaker: e.speaker, language: e.language, text: e.text, sequence: e.sequence };
		case 'transcript.final':
			return { type: e.type, speaker: e.speaker, language: e.language, text: e.text, sequence: e.sequence, translation: e.translation };
		default:
			return { type: e.type };
	}
}

async function rejection(p: Promise<unknown>): Promise<StreamClientError> {
	try {
		await p;
	} catch (error) {
		expect(error).toBeInstanceOf(StreamClientError);
		return error as StreamClientError;
	}
	throw new Error('expected start() to reject');
}

describe('events', () => {
	it('emits a played call in order, with both translation shapes normalized, then ends', async () => {
		const session = await createSession(sandbox);
		const rec = recorder();
		const client = track(recordingClient(rec, { resolveEndpoint: restResolver(sandbox, session.id) }));
		await client.start();
		expect(client.state).toBe('open');
		expect(rec.events[0]).toMatchObject({ type: 'session.ready', sessionId: session.id });

		await sandbox.play(session.id, { intervalMs: 2, translationShape: 'mixed', endWhenDone: true });
		await waitFor('onEnded', () => rec.ended.length > 0);

		const expected = expectedCallFrames('mixed').map((f) =>
			f.type === 'transcript.final'
				? {
						type: f.type,
						speaker: f.speaker,
						language: f.language,
						text: f.text,
						sequence: f.sequence,
						translation: typeof f.translation === 'string' ? { language: null, text: f.translation } : f.translation,
					}
				: { type: f.type, speaker: f.speaker, language: f.language, text: f.text, sequence: f.sequence },
		);
		const transcript = rec.events.filter((e) => e.type.startsWith('transcript.'));
		expect(transcript.map(project)).toEqual(expected);

		const finals = transcript.filter((e): e is Extract<StreamEvent, { type: 'transcript.final' }> => e.type === 'transcript.final');
		expect(finals).toHaveLength(BILINGUAL_CALL.length);
		finals.forEach((f, i) => {
			expect(f.translation?.text).toBe(BILINGUAL_CALL[i].translation.text);
			// 'mixed' alternates object (language kept) and plain string (language unknown)
			expect(f.translation?.language).toBe(i % 2 === 0 ? BILINGUAL_CALL[i].translation.language : null);
			expect(typeof f.timestamp).toBe('string');
		});

		expect(rec.events[rec.events.length - 1]).toMatchObject({ type: 'session.ended', reason: 'call_completed' });
		expect(rec.ended).toEqual(['call_completed']);
		expect(client.state).toBe('ended');
		expect(client.stats).toMatchObject({
			eventsEmitted: rec.events.length,
			duplicatesDropped: 0,
			problems: { invalid_json: 0, schema: 0, oversized: 0, binary: 0 },
			reconnects: 0,
		});
		await waitFor('server side closed', () => sandbox.openStreamCount(session.id) === 0);
		expect(handshakesOf(sandbox, session.id)).toHaveLength(1);
	});

	it('passes unknown event types through as {type: "unknown"} and session.error as is', async () => {
		const session = await createSession(sandbox);
		const rec = recorder();
		const client = track(recordingClient(rec, { resolveEndpoint: restResolver(sandbox, session.id) }));
		await client.start();
		sandbox.sendFrame(session.id, { type: 'agent.tool_call', tool: 'lookup', args: { id: 1 } });
		sandbox.sendFrame(session.id, { type: 'session.error', code: 'invalid_audio_format', message: 'bad audio' });
		await waitFor('two events', () => rec.events.length >= 3);
		expect(rec.events[1]).toEqual({
			type: 'unknown',
			wireType: 'agent.tool_call',
			raw: { type: 'agent.tool_call', tool: 'lookup', args: { id: 1 } },
		});
		expect(rec.events[2]).toMatchObject({ type: 'session.error', code: 'invalid_audio_format', message: 'bad audio' });
		expect(client.stats.unknownEvents).toBe(1);
		expect(client.state).toBe('open');
	});

	it('never emits pong frames', async () => {
		const session = await createSession(sandbox);
		const rec = recorder();
		const client = track(recordingClient(rec, { resolveEndpoint: restResolver(sandbox, session.id), pingIntervalMs: 50 }));
		await client.start();
		// session.ready, then a pong for each ping (every frame counts, pongs included)
		await waitFor('four pongs', () => client.stats.framesReceived >= 5 + client.stats.reconnects);
		await sleep(30);
		// A stall on a busy machine may cost the stream a keepalive reconnect, and so one more
		// session.ready: the point here is that no pong ever becomes an event.
		const types = rec.events.map((e) => e.type);
		expect(new Set(types)).toEqual(new Set(['session.ready']));
		expect(types).toHaveLength(1 + client.stats.reconnects);
		expect(client.stats.eventsEmitted).toBe(types.length);
	});
});

describe('start() failures (no retry)', () => {
	async function failingStart(resolveEndpoint: (attempt: number) => Promise<any>, extra = {}) {
		const rec = recorder();
		const client = track(recordingClient(rec, { resolveEndpoint, ...extra }));
		const error = await rejection(client.start());
		await sleep(60); // well past the 10–50 ms backoff: a retry would show up now
		expect(rec.gaveUp).toEqual([]);
		expect(rec.ended).toEqual([]);
		expect(rec.reconnected).toEqual([]);
		expectNoSecrets([error.message, error.stack ?? '', ...rec.logs.map((l) => l.msg)], secretsOf(sandbox));
		return { error, client, rec };
	}

	it('bad token → unauthorized (401)', async () => {
		const session = await createSession(sandbox);
		const badToken = 'kst_test_ThisTokenWasNeverIssued0000';
		const { error, client } = await failingStart(async () => ({
			kind: 'live',
			endpoint: { url: session.stream!.url, token: badToken },
		}));
		expect(error).toMatchObject({ kind: 'unauthorized', status: 401 });
		expect(error.message).not.toContain(badToken);
		expect(client.state).toBe('closed');
		expect(handshakesOf(sandbox, session.id).map((h) => h.status)).toEqual([401]);
	});

	it('unknown session → not_found (404)', async () => {
		const session = await createSession(sandbox);
		const url = session.stream!.url.replace(session.id, 'sess_DOESNOTEXIST00000000000000');
		const { error } = await failingStart(async () => ({ kind: 'live', endpoint: { url, token: session.stream!.token } }));
		expect(error).toMatchObject({ kind: 'not_found', status: 404 });
	});

	it('ended session → ended (410 at the handshake, or resolveEndpoint → ended)', async () => {
		const session = await createSession(sandbox);
		expect((await api(sandbox, 'POST', `/sessions/${session.id}/end`)).status).toBe(200);
		const stale = { url: session.stream!.url, token: session.stream!.token };
		const first = await failingStart(async () => ({ kind: 'live', endpoint: stale }));
		expect(first.error).toMatchObject({ kind: 'ended', status: 410 });
		expect(first.client.state).toBe('ended');
		expect(handshakesOf(sandbox, session.id).map((h) => h.status)).toEqual([410]);

		const second = await failingStart(restResolver(sandbox, session.id));
		expect(second.error.kind).toBe('ended');
		expect(handshakesOf(sandbox, session.id)).toHaveLength(1); // resolved as ended: no handshake
	});

	it('refused handshake → refused with the status', async () => {
		const session = await createSession(sandbox);
		sandbox.setStreamFaults(session.id, { refuseHandshakes: { count: 1, status: 503 } });
		const { error } = await failingStart(restResolver(sandbox, session.id));
		expect(error).toMatchObject({ kind: 'refused', status: 503 });
		expect(handshakesOf(sandbox, session.id).map((h) => h.status)).toEqual([503]);
	});

	it('no session.ready and no pong in time → timeout exactly connectTimeoutMs after the connection began (fake clock), and the socket is closed', async () => {
		const session = await createSession(sandbox);
		sandbox.setStreamFaults(session.id, { silent: true });
		const clock = new FakeClock();
		const rec = recorder();
		const client = track(recordingClient(rec, { resolveEndpoint: restResolver(sandbox, session.id), connectTimeoutMs: 1500, clock }));
		let failed: StreamClientError | undefined;
		const failing = rejection(client.start()).then((error) => (failed = error));
		await waitFor('the handshake', () => handshakesOf(sandbox, session.id).length === 1);
		// The one timer: the handshake and session.ready must come within connectTimeoutMs.
		expect(client.diagnostics().timers).toEqual(['connect']);
		expect(clock.delays).toEqual([1500]);
		await clock.advance(1499);
		expect(failed).toBeUndefined();
		await clock.advance(1);
		const error = await failing;
		expect(error.kind).toBe('timeout');
		expect(handshakesOf(sandbox, session.id).map((h) => h.status)).toEqual([101]);
		await waitFor('server side closed', () => sandbox.openStreamCount(session.id) === 0);
		expect(client.diagnostics()).toEqual({ timers: [], socketListeners: null, retiringSockets: 0 });
		// No retry: start() has none, and no timer is left to make one.
		expect(clock.pending).toBe(0);
		expect(rec.gaveUp).toEqual([]);
		expect(rec.ended).toEqual([]);
		expect(rec.reconnected).toEqual([]);
		expectNoSecrets([error.message, error.stack ?? '', ...rec.logs.map((l) => l.msg)], secretsOf(sandbox));
	});


	it('nothing listening → network', async () => {
		const port = await new Promise<number>((resolve) => {
			const server = createServer();
			server.listen(0, '127.0.0.1', () => {
				const p = (server.address() as { port: number }).port;
				server.close(() => resolve(p));
			});
		});
		const { error } = await failingStart(async () => ({
			kind: 'live',
			endpoint: { url: `ws://127.0.0.1:${port}/v1/sessions/sess_X/connect`, token: 'kst_test_NetworkTokenNotLogged00' },
		}));
		expect(error.kind).toBe('network');
		expect(error.message).toMatch(/ECONNREFUSED/);
		expect(error.message).not.toContain('NetworkTokenNotLogged');
	});

	it('resolveEndpoint throws → endpoint, with the original error as cause', async () => {
		const original = new ResolveError('GET session failed with 401', true);
		const { error } = await failingStart(async () => {
			throw original;
		});
		expect(error).toMatchObject({ kind: 'endpoint', permanent: true });
		expect(error.cause).toBe(original);
		expect(error.message).toContain('GET session failed with 401');
	});
});

describe('bad frames', () => {
	it('counts invalid JSON, schema, oversized and binary frames, logs each kind once without content, and goes on', async () => {
		const session = await createSession(sandbox);
		const rec = recorder();
		const client = track(recordingClient(rec, { resolveEndpoint: restResolver(sandbox, session.id), maxFrameBytes: 1024 }));
		await client.start();

		const MARK = 'CALLER-SAID-SOMETHING-PRIVATE';
		sandbox.sendFrame(session.id, `{"type":"transcript.final","text":"${MARK}"`);
		sandbox.sendFrame(session.id, `not json at all ${MARK}`);
		sandbox.sendFrame(session.id, { type: 'transcript.final', speaker: 'agent', text: `${MARK} ${'x'.repeat(2000)}`, sequence: 90 });
		sandbox.sendFrame(session.id, { type: 'transcript.final', speaker: 7, text: MARK });
		sandbox.sendFrame(session.id, [MARK]);
		for (const ws of serverSockets(sandbox, session.id)) ws.send(Buffer.from(MARK));
		sandbox.sendFrame(session.id, { type: 'transcript.final', speaker: 'agent', text: 'still streaming', sequence: 91, translation: 'sigue' });

		await waitFor('the good frame after the bad ones', () => rec.events.some((e) => e.type === 'transcript.final'));
		expect(rec.events.map((e) => e.type)).toEqual(['session.ready', 'transcript.final']);
		expect(rec.events[1]).toMatchObject({ text: 'still streaming', translation: { language: null, text: 'sigue' } });
		expect(client.state).toBe('open');
		expect(client.stats.problems).toEqual({ invalid_json: 2, schema: 2, oversized: 1, binary: 1 });
		expect(rec.problems.map((p) => [p.kind, p.count])).toEqual([
			['invalid_json', 1],
			['invalid_json', 2],
			['oversized', 1],
			['schema', 1],
			['schema', 2],
			['binary', 1],
		]);
		const warnings = rec.logs.filter((l) => l.level === 'warn');
		expect(warnings).toHaveLength(4); // once per kind
		for (const text of [...rec.problems.map((p) => p.detail), ...rec.logs.map((l) => l.msg)]) expect(text).not.toContain(MARK);

		// counting goes on after the one warning per kind
		sandbox.sendFrame(session.id, '{{');
		await waitFor('third invalid_json', () => client.stats.problems.invalid_json === 3);
		expect(rec.logs.filter((l) => l.level === 'warn')).toHaveLength(4);
		expect(handshakesOf(sandbox, session.id)).toHaveLength(1); // the stream was never dropped
	});

	it('a frame above the hard memory cap resets the connection: counted as oversized, then reconnected', async () => {
		const session = await createSession(sandbox);
		const rec = recorder();
		// maxFrameBytes 64 KiB → hard cap max(16 × 64 KiB, 16 MiB) = 16 MiB. A long ping interval:
		// building and sending 16 MiB in this process stalls the event loop (keepalive must not win).
		const client = track(
			recordingClient(rec, { resolveEndpoint: restResolver(sandbox, session.id), maxFrameBytes: 64 * 1024, pingIntervalMs: 5000 }),
		);
		await client.start();
		sandbox.sendFrame(session.id, JSON.stringify({ type: 'transcript.partial', speaker: 'agent', text: 'x'.repeat(16 * 1024 * 1024 + 10) }));
		await waitFor('reconnected', () => rec.reconnected.length === 1);
		expect(client.stats.problems.oversized).toBe(1);
		expect(rec.problems).toEqual([expect.objectContaining({ kind: 'oversized', count: 1 })]);
		sandbox.sendFrame(session.id, { type: 'transcript.final', speaker: 'agent', text: 'after the reset', sequence: 5 });
		await waitFor('event after the reset', () => rec.events.some((e) => e.type === 'transcript.final'));
		expect(client.state).toBe('open');
	});
});

describe('callbacks that throw', () => {
	it('are caught and logged; the stream goes on', async () => {
		const session = await createSession(sandbox);
		const rec = recorder();
		const seen: string[] = [];
		let unhandled = 0;
		const onUnhandled = () => unhandled++;
		process.on('unhandledRejection', onUnhandled);
		try {
			const client = track(
				recordingClient(rec, {
					resolveEndpoint: restResolver(sandbox, session.id),
					onEvent: (e) => {
						seen.push(e.type);
						if (e.type === 'transcript.partial') return Promise.reject(new Error('async handler failed')) as unknown as void;
						throw new Error(`handler failed on ${e.type}`);
					},
					onProblem: () => {
						throw new Error('problem handler failed');
					},
				}),
			);
			await client.start(); // onEvent(session.ready) threw inside the first frame's handling
			sandbox.sendFrame(session.id, 'nope');
			sandbox.sendFrame(session.id, { type: 'transcript.partial', speaker: 'agent', text: 'hel', sequence: 1 });
			sandbox.sendFrame(session.id, { type: 'transcript.final', speaker: 'agent', text: 'hello', sequence: 1 });
			await waitFor('all events', () => seen.length === 3);
			await sleep(20);
			expect(seen).toEqual(['session.ready', 'transcript.partial', 'transcript.final']);
			expect(client.state).toBe('open');
			const errors = rec.logs.filter((l) => l.level === 'error').map((l) => l.msg);
			expect(errors).toEqual(
				expect.arrayContaining([
					expect.stringContaining('onEvent callback threw: handler failed on session.ready'),
					expect.stringContaining('onEvent callback failed: async handler failed'),
					expect.stringContaining('onProblem callback threw: problem handler failed'),
				]),
			);
			expect(unhandled).toBe(0);
			expect(handshakesOf(sandbox, session.id)).toHaveLength(1);
		} finally {
			process.off('unhandledRejection', onUnhandled);
		}
	});
});
