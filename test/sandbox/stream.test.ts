/** WebSocket side of the Kallglot sandbox: handshakes, client frames, the scripted call, stream faults. */
import { BILINGUAL_CALL, KallglotSandbox, expectedCallFrames } from '../../sandbox';
import { HandshakeRefused, StreamClient, api, createSession, eventually, withoutTimestamps } from './test-helpers';

let sb: KallglotSandbox;
const clients: StreamClient[] = [];

beforeEach(async () => {
	sb = await KallglotSandbox.start();
});

afterEach(async () => {
	await sb.close();
	clients.length = 0;
});

async function open(session: { stream: { url: string; token: string } }): Promise<StreamClient> {
	const client = await StreamClient.forSession(session);
	clients.push(client);
	return client;
}

async function refusal(url: string): Promise<HandshakeRefused> {
	try {
		const client = await StreamClient.connect(url);
		await client.close();
	} catch (error) {
		if (error instanceof HandshakeRefused) return error;
		throw error;
	}
	throw new Error(`handshake to ${url} was accepted`);
}

const isFinal = (f: { type?: string }): boolean => f?.type === 'transcript.final';
const lastSequence = BILINGUAL_CALL.length;
/** play() resolves once the last frame is written; the client may still be reading it. */
const finalOf = (sequence: number) => (f: { type?: string; sequence?: number }) => isFinal(f) && f.sequence === sequence;
const scriptFrames = (frames: Array<{ type?: string }>): Array<{ type?: string }> =>
	frames.filter((f) => f?.type === 'transcript.partial' || f?.type === 'transcript.final');

describe('handshake', () => {
	it('refuses unknown sessions 404, bad tokens 401, ended sessions 410, and records every handshake', async () => {
		const a = (await createSession(sb)).json;
		const b = (await createSession(sb)).json;
		const base = a.stream.url;

		const unknown = await refusal(`ws://127.0.0.1:${sb.port}/v1/sessions/sess_NOPE/connect?token=${a.stream.token}`);
		expect(unknown.status).toBe(404);
		expect(unknown.body.error).toMatchObject({ code: 'session_not_found', request_id: expect.stringMatching(/^req_/) });

		const missing = await refusal(base);
		expect(missing.status).toBe(401);
		expect(missing.body.error.code).toBe('invalid_stream_token');
		expect((await refusal(`${base}?token=kst_test_forged`)).status).toBe(401);
		expect((await refusal(`${base}?token=${b.stream.token}`)).status).toBe(401); // another session's token

		await api(sb, 'POST', `/sessions/${a.id}/end`);
		const ended = await refusal(`${base}?token=${a.stream.token}`);
		expect(ended.status).toBe(410);
		expect(ended.body.error.code).toBe('session_ended');

		expect(sb.handshakes.map((h) => h.status)).toEqual([404, 401, 401, 401, 410]);
		expect(sb.handshakes[1]).toMatchObject({ sessionId: a.id, token: null });
		expect(sb.handshakes[2].token).toBe('kst_test_forged');
		expect(sb.openStreamCount()).toBe(0);
	});

	it('refuses an expired token, accepts a fresh one from GET, and never cuts an open socket on expiry', async () => {
		await sb.close();
		// Long enough that a busy machine still opens (and later reopens) within it; the wait below
		// goes by the token's own expires_at (CI once took over 80 ms between create and open).
		sb = await KallglotSandbox.start({ tokenTtlMs: 1500 });
		const created = (await createSession(sb)).json;
		const early = await open(created);
		await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(created.stream.expires_at) - Date.now() + 20)));
		const expired = await refusal(`${created.stream.url}?token=${created.stream.token}`);
		expect(expired.status).toBe(401);
		expect(expired.body.error.code).toBe('expired_stream_token');

		early.send({ type: 'ping' });
		await early.waitForType('pong'); // still open well past its token's expiry
		const fresh = (await api(sb, 'GET', `/sessions/${created.id}`)).json;
		const second = await open(fresh);
		await second.waitForType('session.ready');
		expect(sb.openStreamCount()).toBe(2);
	});

	it('refuses handshakes with an injected status, count times, over the API or /_sandbox', async () => {
		const created = (await createSession(sb)).json;
		sb.setStreamFaults(created.id, { refuseHandshakes: { count: 1, status: 503 } });
		const refused = await refusal(`${created.stream.url}?token=${created.stream.token}`);
		expect(refused.status).toBe(503);
		expect((await open(created)).ws.readyState).toBe(1);

		const res = await fetch(`${sb.controlUrl}/stream-faults`, {
			method: 'POST',
			body: JSON.stringify({ sessionId: '*', refuseHandshakes: { count: 2, status: 429 } }),
		});
		expect(res.status).toBe(201);
		const other = (await createSession(sb)).json;
		expect((await refusal(`${other.stream.url}?token=${other.stream.token}`)).status).toBe(429);
		expect((await refusal(`${other.stream.url}?token=${other.stream.token}`)).status).toBe(429);
		await open(other);
		expect(sb.handshakes.map((h) => h.status)).toEqual([503, 101, 429, 429, 101]);
	});
});

describe('client frames', () => {
	it('sends session.ready on open and marks the session active', async () => {
		const created = (await createSession(sb)).json;
		const client = await open(created);
		expect(await client.waitForType('session.ready')).toEqual({ type: 'session.ready', session_id: created.id });
		expect(client.frames[0].type).toBe('session.ready');
		const retrieved = (await api(sb, 'GET', `/sessions/${created.id}`)).json;
		expect(retrieved.status).toBe('active');
		expect(retrieved.started_at).toEqual(expect.any(String));
		expect(sb.openStreamCount()).toBe(1);
	});

	it('answers ping with pong, unless pings are ignored', async () => {
		const created = (await createSession(sb)).json;
		const client = await open(created);
		client.send({ type: 'ping' });
		expect(await client.waitForType('pong')).toEqual({ type: 'pong', session_id: created.id });

		sb.setStreamFaults(created.id, { ignorePings: true });
		const before = client.frames.length;
		client.send({ type: 'ping' });
		await client.expectNone((f) => f.type === 'pong' && client.frames.indexOf(f) >= before);
		expect(sb.sessions.get(created.id)?.clientFrames.map((f) => f.type)).toEqual(['ping', 'ping']);
	});

	it('session.end → session.ended (explicit_end), close 1000, session ended', async () => {
		const created = (await createSession(sb)).json;
		const client = await open(created);
		await client.waitForType('session.ready');
		client.send({ type: 'session.end' });
		expect(await client.waitForType('session.ended')).toEqual({ type: 'session.ended', session_id: created.id, reason: 'explicit_end' });
		expect((await client.closed).code).toBe(1000);
		expect((await api(sb, 'GET', `/sessions/${created.id}`)).json.status).toBe('ended');
		expect(sb.openStreamCount()).toBe(0);
	});

	it('validates audio.input and reports bad frames with session.error codes', async () => {
		const created = (await createSession(sb)).json;
		const client = await open(created);
		const audio = (over: Record<string, unknown> = {}, speaker = 'customer'): unknown => ({
			type: 'audio.input',
			sequence: 1,
			timestamp_ms: 0,
			speaker,
			audio: { encoding: 'mulaw', sample_rate_hz: 8000, payload: Buffer.alloc(160, 0xff).toString('base64'), ...over },
		});
		client.send(audio());
		client.send(audio({ encoding: 'pcm16' }));
		client.send(audio({ sample_rate_hz: 16000 }));
		client.send(audio({}, 'bot'));
		client.send(audio({ payload: 'not base64!' }));
		client.send('{"type": "ping"');
		client.send({ type: 'transcript.subscribe' });
		await eventually(() => client.frames.filter((f) => f.type === 'session.error').length === 6, 2000, 'six errors');
		const codes = client.frames.filter((f) => f.type === 'session.error').map((f) => f.code);
		expect(codes).toEqual([
			'invalid_audio_format',
			'invalid_audio_format',
			'invalid_audio_format',
			'invalid_audio_format',
			'invalid_json',
			'unknown_event_type',
		]);
		expect(client.frames.find((f) => f.type === 'session.error')).toEqual({
			type: 'session.error',
			code: 'invalid_audio_format',
			message: expect.stringContaining('mulaw'),
		});
		expect(sb.sessions.get(created.id)?.clientFrames).toEqual([
			{ type: 'audio.input', sequence: 1, timestamp_ms: 0, speaker: 'customer', bytes: 160 },
		]);
	});
});

describe('scripted bilingual call', () => {
	it('streams partials then a final per utterance, in order, with object translations, into the transcript', async () => {
		const created = (await createSession(sb)).json;
		const client = await open(created);
		await sb.play(created.id, { intervalMs: 1 });
		await client.waitFor(finalOf(lastSequence));
		const frames = scriptFrames(client.frames);
		expect(withoutTimestamps(frames)).toEqual(expectedCallFrames('object'));
		expect(BILINGUAL_CALL.length).toBeGreaterThanOrEqual(6);
		expect(BILINGUAL_CALL.length).toBeLessThanOrEqual(8);
		expect(new Set(BILINGUAL_CALL.map((u) => `${u.speaker}:${u.language}`))).toEqual(new Set(['customer:es', 'agent:en']));

		const finals = frames.filter(isFinal) as Array<{ sequence: number; timestamp: string; translation: unknown; speaker: string }>;
		expect(finals.map((f) => f.sequence)).toEqual(BILINGUAL_CALL.map((_, i) => i + 1));
		expect(finals.map((f) => f.speaker)).toEqual(BILINGUAL_CALL.map((u) => u.speaker));
		for (const f of finals) expect(new Date(f.timestamp).toISOString()).toBe(f.timestamp);
		expect(finals[0].translation).toEqual({ language: 'en', text: BILINGUAL_CALL[0].translation.text });

		const transcript = (await api(sb, 'GET', `/sessions/${created.id}/transcript`)).json;
		expect(transcript.status).toBe('in_progress');
		expect(transcript.turns).toHaveLength(BILINGUAL_CALL.length);
		expect(transcript.turns[1]).toEqual({
			sequence: 2,
			speaker: 'agent',
			language: 'en',
			text: BILINGUAL_CALL[1].text,
			translation: { language: 'es', text: BILINGUAL_CALL[1].translation.text },
			timestamp: finals[1].timestamp,
		});
		expect(transcript.metadata).toMatchObject({ total_turns: BILINGUAL_CALL.length, languages_detected: ['es', 'en'] });
	});

	it.each(['string', 'mixed'] as const)('sends %s-shaped translations', async (shape) => {
		const created = (await createSession(sb)).json;
		const client = await open(created);
		await sb.play(created.id, { intervalMs: 1, translationShape: shape });
		await client.waitFor(finalOf(lastSequence));
		const finals = client.frames.filter(isFinal);
		expect(withoutTimestamps(scriptFrames(client.frames))).toEqual(expectedCallFrames(shape));
		expect(typeof finals[1].translation).toBe('string');
		expect(typeof finals[0].translation).toBe(shape === 'string' ? 'string' : 'object');
	});

	it('waits for a listener, continues sequences across plays, and ends with call_completed', async () => {
		const created = (await createSession(sb)).json;
		const first = sb.play(created.id, { intervalMs: 1 });
		await new Promise((resolve) => setTimeout(resolve, 50));
		expect(sb.sessions.get(created.id)?.framesSent).toBe(0); // paused: nobody is listening
		const client = await open(created);
		await first;
		await client.waitFor(finalOf(lastSequence));
		expect(withoutTimestamps(scriptFrames(client.frames))).toEqual(expectedCallFrames('object'));

		await sb.play(created.id, { intervalMs: 1, endWhenDone: true });
		await client.closed;
		expect(withoutTimestamps(scriptFrames(client.frames)).slice(-expectedCallFrames().length)).toEqual(
			expectedCallFrames('object', lastSequence + 1),
		);
		expect(client.frames.at(-1)).toEqual({ type: 'session.ended', session_id: created.id, reason: 'call_completed' });
		expect((await client.closed).code).toBe(1000);
		const transcript = (await api(sb, 'GET', `/sessions/${created.id}/transcript`)).json;
		expect(transcript.status).toBe('completed');
		expect(transcript.turns).toHaveLength(2 * BILINGUAL_CALL.length);
	});

	it('plays over the control endpoint (202 at once)', async () => {
		const created = (await createSession(sb)).json;
		const client = await open(created);
		const res = await fetch(`${sb.controlUrl}/sessions/${created.id}/play`, {
			method: 'POST',
			body: JSON.stringify({ intervalMs: 1, translationShape: 'string', endWhenDone: true }),
		});
		expect(res.status).toBe(202);
		await client.closed;
		expect(withoutTimestamps(scriptFrames(client.frames))).toEqual(expectedCallFrames('string'));
		expect((await fetch(`${sb.controlUrl}/sessions/sess_NOPE/play`, { method: 'POST' })).status).toBe(404);
		expect((await fetch(`${sb.controlUrl}/sessions/${created.id}/play`, { method: 'POST' })).status).toBe(409);
	});
});

describe('stream faults and lifecycle', () => {
	it('drops after N frames, pauses the script, and replays the last frames on the reconnect', async () => {
		const created = (await createSession(sb)).json;
		sb.setStreamFaults(created.id, { dropAfterFrames: 4, replayOnReconnect: 2 });
		const first = await open(created);
		const playing = sb.play(created.id, { intervalMs: 2 });
		const dropped = await first.closed;
		expect(dropped.code).toBe(1006); // abrupt: no close frame
		expect(first.frames).toHaveLength(4); // ready + 3 script frames
		expect(sb.openStreamCount()).toBe(0);

		const fresh = (await api(sb, 'GET', `/sessions/${created.id}`)).json;
		const second = await open(fresh);
		await playing;
		await second.waitFor(finalOf(lastSequence));
		const firstScript = scriptFrames(first.frames);
		const secondScript = scriptFrames(second.frames);
		expect(second.frames[0].type).toBe('session.ready');
		expect(secondScript.slice(0, 2)).toEqual(firstScript.slice(-2)); // the duplicates
		const unique = [...new Map([...firstScript, ...secondScript].map((f) => [JSON.stringify(f), f])).values()];
		expect(withoutTimestamps(unique)).toEqual(expectedCallFrames('object')); // nothing lost
		expect(second.ws.readyState).toBe(1); // dropTimes defaults to 1
		expect(sb.stats().sessions[0]).toMatchObject({ connections: 2, openConnections: 1 });
	});

	it('silent streams send nothing, not even session.ready', async () => {
		const created = (await createSession(sb)).json;
		sb.setStreamFaults('*', { silent: true });
		const client = await open(created);
		client.send({ type: 'ping' });
		await client.expectNone(() => true);
		sb.setStreamFaults('*', {});
		client.send({ type: 'ping' });
		await client.waitForType('pong');
	});

	it('injects raw frames as-is: malformed JSON and unknown event types', async () => {
		const created = (await createSession(sb)).json;
		const client = await open(created);
		await client.waitForType('session.ready');
		sb.sendFrame(created.id, '{"type": "transcript.final", ');
		sb.sendFrame(created.id, { type: 'session.mood', mood: 'happy' });
		await eventually(() => client.frames.length === 3);
		expect(client.frames.slice(1)).toEqual(['{"type": "transcript.final", ', { type: 'session.mood', mood: 'happy' }]);
		expect(() => sb.sendFrame('sess_NOPE', {})).toThrow();
	});

	it('ending via REST pushes session.ended (ended_by_api) and closes every socket with 1000', async () => {
		const created = (await createSession(sb)).json;
		const a = await open(created);
		const b = await open((await api(sb, 'GET', `/sessions/${created.id}`)).json);
		expect(sb.openStreamCount()).toBe(2);
		const end = await api(sb, 'POST', `/sessions/${created.id}/end`);
		expect(end.json.duration_seconds).toBeGreaterThanOrEqual(0);
		for (const client of [a, b]) {
			expect(await client.waitForType('session.ended')).toEqual({ type: 'session.ended', session_id: created.id, reason: 'ended_by_api' });
			expect((await client.closed).code).toBe(1000);
		}
		expect(sb.openStreamCount()).toBe(0);
	});

	it('openStreamCount() returns 0 once clients close; close() terminates what is still open', async () => {
		const created = (await createSession(sb)).json;
		const a = await open(created);
		const b = await open(created);
		expect(sb.openStreamCount()).toBe(2);
		await a.close();
		await b.close();
		expect(sb.openStreamCount()).toBe(0);

		const c = await open(created);
		await c.waitForType('session.ready');
		await sb.close();
		expect((await c.closed).code).toBe(1006);
		expect(sb.openStreamCount()).toBe(0);
	});
});
