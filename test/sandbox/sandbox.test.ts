/** REST side of the Kallglot sandbox: auth, sessions, validation, credits, idempotency, limits, faults, agents. */
import { KallglotSandbox, SANDBOX_AGENT_ID, SANDBOX_API_KEY } from '../../sandbox';
import { api, createSession, eventually } from './test-helpers';

let sb: KallglotSandbox;

afterEach(async () => {
	await sb?.close();
});

describe('server basics', () => {
	beforeEach(async () => {
		sb = await KallglotSandbox.start();
	});

	it('binds to 127.0.0.1 on an ephemeral port and uses the default key', () => {
		expect(sb.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
		expect(sb.port).toBeGreaterThan(0);
		expect(sb.apiKey).toBe(SANDBOX_API_KEY);
		expect(SANDBOX_API_KEY).toMatch(/^sk_sandbox_/);
	});

	it('answers unknown routes 404 and known routes with another method 405', async () => {
		expect((await api(sb, 'GET', '/nope')).json.error.code).toBe('not_found');
		expect((await api(sb, 'DELETE', '/sessions')).status).toBe(405);
		expect((await api(sb, 'POST', '/recordings/rec_X')).status).toBe(405);
	});
});

describe('authentication', () => {
	beforeEach(async () => {
		sb = await KallglotSandbox.start({ apiKeys: ['sk_test_one', 'sk_test_two'] });
	});

	it.each([
		['no key', {}],
		['a wrong Bearer key', { authorization: 'Bearer sk_test_wrong' }],
		['a wrong X-API-Key', { 'x-api-key': 'sk_test_wrong' }],
		['a non-Bearer scheme', { authorization: 'Basic sk_test_one' }],
	])('rejects %s with the 401 invalid_api_key envelope', async (_label, headers) => {
		const res = await api(sb, 'GET', '/agents', { apiKey: null, headers });
		expect(res.status).toBe(401);
		expect(res.json).toEqual({
			error: {
				type: 'authentication_error',
				code: 'invalid_api_key',
				message: expect.any(String),
				request_id: res.headers.get('x-request-id'),
			},
		});
		expect(res.headers.get('x-request-id')).toMatch(/^req_/);
	});

	it('accepts both Authorization: Bearer and X-API-Key, for every configured key', async () => {
		expect((await api(sb, 'GET', '/agents', { apiKey: 'sk_test_one' })).status).toBe(200);
		expect((await api(sb, 'GET', '/agents', { apiKey: null, headers: { 'x-api-key': 'sk_test_two' } })).status).toBe(200);
		expect(sb.apiKey).toBe('sk_test_one');
	});

	it('hides a session from a key that did not create it', async () => {
		const created = await api(sb, 'POST', '/sessions', { apiKey: 'sk_test_one', body: { mode: 'help_chat_voice' } });
		const other = await api(sb, 'GET', `/sessions/${created.json.id}`, { apiKey: 'sk_test_two' });
		expect(other.status).toBe(404);
		expect(other.json.error.code).toBe('session_not_found');
	});
});

describe('POST /v1/sessions', () => {
	beforeEach(async () => {
		sb = await KallglotSandbox.start();
	});

	it('creates a minimal session shaped exactly like Kallglot’s example answer', async () => {
		const before = Date.now();
		const res = await api(sb, 'POST', '/sessions', { body: { mode: 'bidirectional_translation' } });
		expect(res.status).toBe(201);
		const s = res.json;
		expect(Object.keys(s)).toEqual([
			'id',
			'object',
			'status',
			'mode',
			'provider',
			'phone_number',
			'source_language',
			'target_language',
			'stream',
			'call',
			'recording',
			'metadata',
			'created_at',
		]);
		expect(s.id).toMatch(/^sess_[A-Z0-9]{26}$/);
		expect(s).toMatchObject({
			object: 'session',
			status: 'created',
			mode: 'bidirectional_translation',
			provider: null,
			phone_number: null,
			source_language: null,
			target_language: null,
			call: null,
			recording: { enabled: false, consent_required: false },
			metadata: null,
		});
		expect(s.stream.url).toBe(`ws://127.0.0.1:${sb.port}/v1/sessions/${s.id}/connect`);
		expect(s.stream.token).toMatch(/^kst_test_\w{16,}$/);
		const expiresIn = Date.parse(s.stream.expires_at) - before;
		expect(expiresIn).toBeGreaterThanOrEqual(5 * 60 * 1000 - 1000);
		expect(expiresIn).toBeLessThanOrEqual(5 * 60 * 1000 + 1000);
		expect(new Date(s.created_at).toISOString()).toBe(s.created_at);
		expect(sb.sessions.get(s.id)?.status).toBe('created');
	});

	it('sends the standard headers on every response', async () => {
		const res = await api(sb, 'POST', '/sessions', { body: { mode: 'assistive_translation' } });
		for (const name of ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'x-api-credits-used']) {
			expect(res.headers.get(name)).toMatch(/^\d+$/);
		}
		expect(res.headers.get('x-api-credits-used')).toBe('1');
		expect(res.headers.get('x-api-credits-remaining')).toMatch(/^\d+$/);
		expect(res.headers.get('x-request-id')).toMatch(/^req_\w+$/);
	});

	it.each([
		[{ phone_number: '+14155551234', direction: 'outbound' }, 'twilio', '+14155551234'],
		[{ connection_id: 'pcon_abc123' }, 'telnyx', null],
		[{ type: 'sip', sip: { from_uri: 'sips:alice@example.com', headers: { 'X-Customer-Id': '42' } } }, 'sip', null],
		[{ type: 'sip' }, 'sip', null],
		[{ direction: 'inbound' }, null, null],
	])('derives provider and phone_number from routing %j', async (routing, provider, phoneNumber) => {
		const res = await createSession(sb, { mode: 'bidirectional_translation', routing });
		expect(res.json.provider).toBe(provider);
		expect(res.json.phone_number).toBe(phoneNumber);
		expect(sb.sessions.get(res.json.id)?.request.routing).toEqual(routing);
	});

	it('echoes languages, recording, metadata and ai_agent; stores unknown top-level fields', async () => {
		const res = await createSession(sb, {
			mode: 'ai_agent',
			source_language: 'pt-BR',
			target_language: 'en',
			ai_agent: { agent_id: SANDBOX_AGENT_ID, overrides: { greeting: 'Olá' } },
			recording: { enabled: true, consent_required: true, mix_mode: 'mixed', consent_state: 'granted' },
			audio: { encoding: 'mulaw', sample_rate: 8000, channels: 1 },
			voice: { voice_id: 'nova', stability: 0, similarity_boost: 1, speed: 0.5 },
			metadata: { customer_id: '123' },
			future_field: { x: 1 },
		});
		expect(res.json).toMatchObject({
			mode: 'ai_agent',
			source_language: 'pt-BR',
			target_language: 'en',
			recording: { enabled: true, consent_required: true, mix_mode: 'mixed', consent_state: 'granted' },
			metadata: { customer_id: '123' },
			ai_agent: { agent_id: SANDBOX_AGENT_ID, overrides: { greeting: 'Olá' } },
		});
		expect(res.json).not.toHaveProperty('future_field');
		expect(sb.sessions.get(res.json.id)?.extraFields).toEqual({ future_field: { x: 1 } });
	});

	it.each([
		[{}, 'mode'],
		[{ mode: 'translation' }, 'mode'],
		[{ mode: 'bidirectional_translation', provider: { name: 'twilio' } }, 'provider'],
		[{ mode: 'bidirectional_translation', provider: 'twilio' }, 'provider'],
		[{ mode: 'bidirectional_translation', source_language: 'Spanish' }, 'source_language'],
		[{ mode: 'bidirectional_translation', target_language: 'EN' }, 'target_language'],
		[{ mode: 'bidirectional_translation', routing: 'default' }, 'routing'],
		[{ mode: 'bidirectional_translation', routing: { phone_number: '4155551234' } }, 'routing.phone_number'],
		[{ mode: 'bidirectional_translation', routing: { phone_number: '+0415555' } }, 'routing.phone_number'],
		[{ mode: 'bidirectional_translation', routing: { phone_number: '+14155551234', connection_id: 'pcon_1' } }, 'routing'],
		[{ mode: 'bidirectional_translation', routing: { connection_id: 'pcon_1', type: 'sip' } }, 'routing'],
		[{ mode: 'bidirectional_translation', routing: { connection_id: 'conn_1' } }, 'routing.connection_id'],
		[{ mode: 'bidirectional_translation', routing: { type: 'pstn' } }, 'routing.type'],
		[{ mode: 'bidirectional_translation', routing: { sip: { from_uri: 'sip:a@b' } } }, 'routing.sip'],
		[{ mode: 'bidirectional_translation', routing: { type: 'sip', sip: { from_uri: 'alice@b' } } }, 'routing.sip.from_uri'],
		[{ mode: 'bidirectional_translation', routing: { type: 'sip', sip: { headers: { Foo: 'x' } } } }, 'routing.sip.headers'],
		[{ mode: 'bidirectional_translation', routing: { type: 'sip', sip: { headers: { 'X-N': 1 } } } }, 'routing.sip.headers'],
		[{ mode: 'bidirectional_translation', routing: { direction: 'sideways' } }, 'routing.direction'],
		[{ mode: 'bidirectional_translation', audio: { encoding: 7 } }, 'audio.encoding'],
		[{ mode: 'bidirectional_translation', audio: { sample_rate: 0 } }, 'audio.sample_rate'],
		[{ mode: 'bidirectional_translation', audio: { sample_rate: 8000.5 } }, 'audio.sample_rate'],
		[{ mode: 'bidirectional_translation', audio: { channels: 3 } }, 'audio.channels'],
		[{ mode: 'bidirectional_translation', voice: { stability: 1.5 } }, 'voice.stability'],
		[{ mode: 'bidirectional_translation', voice: { stability: '0.5' } }, 'voice.stability'],
		[{ mode: 'bidirectional_translation', voice: { similarity_boost: -0.1 } }, 'voice.similarity_boost'],
		[{ mode: 'bidirectional_translation', voice: { speed: 2.5 } }, 'voice.speed'],
		[{ mode: 'bidirectional_translation', recording: { enabled: 'yes' } }, 'recording.enabled'],
		[{ mode: 'bidirectional_translation', recording: { mix_mode: 'stereo' } }, 'recording.mix_mode'],
		[{ mode: 'bidirectional_translation', recording: { consent_state: 'maybe' } }, 'recording.consent_state'],
		[{ mode: 'bidirectional_translation', ai_agent: { agent_id: SANDBOX_AGENT_ID } }, 'ai_agent'],
		[{ mode: 'ai_agent' }, 'ai_agent.agent_id'],
		[{ mode: 'ai_agent', ai_agent: { agent_id: SANDBOX_AGENT_ID, overrides: 'x' } }, 'ai_agent.overrides'],
		[{ mode: 'bidirectional_translation', metadata: ['a'] }, 'metadata'],
	])('rejects %j with 422 param %s, creating nothing', async (body, param) => {
		const res = await api(sb, 'POST', '/sessions', { body });
		expect(res.status).toBe(422);
		expect(res.json.error).toMatchObject({ type: 'validation_error', param, request_id: expect.stringMatching(/^req_/) });
		expect(sb.sessions.size).toBe(0);
		expect(sb.creditsUsed).toBe(0);
	});

	it('answers 404 ai_agent_not_found for an unknown agent and 400 for a body that is not JSON', async () => {
		const unknownAgent = await api(sb, 'POST', '/sessions', { body: { mode: 'ai_agent', ai_agent: { agent_id: 'agt_nope' } } });
		expect(unknownAgent.status).toBe(404);
		expect(unknownAgent.json.error).toMatchObject({ code: 'ai_agent_not_found', param: 'ai_agent.agent_id' });
		const notJson = await api(sb, 'POST', '/sessions', { rawBody: '{"mode":' });
		expect(notJson.status).toBe(400);
		expect(notJson.json.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_request' });
		expect(sb.requests.at(-1)?.body).toBe('{"mode":');
	});
});

describe('credits', () => {
	it('charges 1 credit per created session and answers 402 once they run out', async () => {
		sb = await KallglotSandbox.start({ credits: 2 });
		const first = await api(sb, 'POST', '/sessions', { body: { mode: 'bidirectional_translation' } });
		expect(first.headers.get('x-api-credits-remaining')).toBe('1');
		await api(sb, 'POST', '/sessions', { body: { mode: 'nope' } }); // a failed create costs nothing
		await createSession(sb);
		const third = await api(sb, 'POST', '/sessions', { body: { mode: 'bidirectional_translation' } });
		expect(third.status).toBe(402);
		expect(third.json.error).toMatchObject({ code: 'insufficient_api_credits', type: 'billing_error' });
		expect(third.headers.get('x-api-credits-remaining')).toBe('0');
		expect(third.headers.get('x-api-credits-used')).toBe('2');
		expect(sb.sessions.size).toBe(2);
		sb.credits = 1; // topping up works at runtime
		expect((await api(sb, 'POST', '/sessions', { body: { mode: 'bidirectional_translation' } })).status).toBe(201);
	});
});

describe('idempotency', () => {
	beforeEach(async () => {
		sb = await KallglotSandbox.start({ credits: 10 });
	});
	const key = (k: string): Record<string, string> => ({ 'idempotency-key': k });

	it('replays the first success: same status and body, one session, one credit', async () => {
		const first = await api(sb, 'POST', '/sessions', { body: { mode: 'help_chat_voice', metadata: { a: 1, b: 2 } }, headers: key('k1') });
		// Same parameters in another key order are the same body.
		const again = await api(sb, 'POST', '/sessions', { body: { metadata: { b: 2, a: 1 }, mode: 'help_chat_voice' }, headers: key('k1') });
		expect(again.status).toBe(201);
		expect(again.json).toEqual(first.json);
		expect(again.headers.get('idempotent-replayed')).toBe('true');
		expect(again.headers.get('x-request-id')).not.toBe(first.headers.get('x-request-id'));
		expect(sb.sessions.size).toBe(1);
		expect(sb.credits).toBe(9);
	});

	it('answers 400 idempotency_mismatch for the same key with another body', async () => {
		await createSession(sb);
		await api(sb, 'POST', '/sessions', { body: { mode: 'help_chat_voice' }, headers: key('k2') });
		const mismatch = await api(sb, 'POST', '/sessions', { body: { mode: 'ai_agent' }, headers: key('k2') });
		expect(mismatch.status).toBe(400);
		expect(mismatch.json.error).toMatchObject({ type: 'invalid_request_error', code: 'idempotency_mismatch' });
	});

	it('answers 409 idempotency_conflict with Retry-After: 1 while the first request is in progress', async () => {
		sb.injectFault({ method: 'POST', path: '/sessions', delayMs: 300 });
		const body = { mode: 'bidirectional_translation' };
		const slow = api(sb, 'POST', '/sessions', { body, headers: key('k3') });
		await eventually(() => sb.requests.length === 1, 2000, 'the first request');
		const conflict = await api(sb, 'POST', '/sessions', { body, headers: key('k3') });
		expect(conflict.status).toBe(409);
		expect(conflict.json.error).toMatchObject({ code: 'idempotency_conflict', retry_after: 1 });
		expect(conflict.headers.get('retry-after')).toBe('1');
		const first = await slow;
		expect(first.status).toBe(201);
		const retry = await api(sb, 'POST', '/sessions', { body, headers: key('k3') });
		expect(retry.json.id).toBe(first.json.id);
		expect(sb.sessions.size).toBe(1);
	});

	it('does not store failed first attempts', async () => {
		sb.injectFault({ path: '/v1/sessions', status: 503 });
		const failed = await api(sb, 'POST', '/sessions', { body: { mode: 'bidirectional_translation' }, headers: key('k4') });
		expect(failed.status).toBe(503);
		const other = await api(sb, 'POST', '/sessions', { body: { mode: 'bidirectional_translation' }, headers: key('k5') });
		expect(other.status).toBe(201); // k5 is a fresh key
		const retry = await api(sb, 'POST', '/sessions', { body: { mode: 'bidirectional_translation' }, headers: key('k4') });
		expect(retry.status).toBe(201);
		expect(sb.sessions.size).toBe(2);
	});

	it('scopes keys per API key, method and path; end and dial replay too', async () => {
		await sb.close();
		sb = await KallglotSandbox.start({ apiKeys: ['sk_test_a', 'sk_test_b'] });
		const a = await api(sb, 'POST', '/sessions', { apiKey: 'sk_test_a', body: { mode: 'help_chat_voice' }, headers: key('shared') });
		const b = await api(sb, 'POST', '/sessions', { apiKey: 'sk_test_b', body: { mode: 'ai_agent', ai_agent: { agent_id: SANDBOX_AGENT_ID } }, headers: key('shared') });
		expect(b.status).toBe(201);
		expect(b.json.id).not.toBe(a.json.id);

		const dial1 = await api(sb, 'POST', `/sessions/${a.json.id}/dial`, { apiKey: 'sk_test_a', body: { to: '+14155550100' }, headers: key('shared') });
		const dial2 = await api(sb, 'POST', `/sessions/${a.json.id}/dial`, { apiKey: 'sk_test_a', body: { to: '+14155550100' }, headers: key('shared') });
		expect(dial1.status).toBe(200);
		expect(dial2.json.call.id).toBe(dial1.json.call.id);

		const end1 = await api(sb, 'POST', `/sessions/${a.json.id}/end`, { apiKey: 'sk_test_a', headers: key('shared') });
		const end2 = await api(sb, 'POST', `/sessions/${a.json.id}/end`, { apiKey: 'sk_test_a', headers: key('shared') });
		expect(end2.json).toEqual(end1.json);
	});
});

describe('rate limiting', () => {
	it('answers 429 rate_limit_exceeded with Retry-After once the window is full', async () => {
		sb = await KallglotSandbox.start({ rateLimit: { limit: 2, windowMs: 60_000 } });
		const ok1 = await api(sb, 'GET', '/agents');
		expect(ok1.headers.get('x-ratelimit-limit')).toBe('2');
		expect(ok1.headers.get('x-ratelimit-remaining')).toBe('1');
		await api(sb, 'GET', '/agents');
		const limited = await api(sb, 'GET', '/agents');
		expect(limited.status).toBe(429);
		expect(limited.json.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
		const retryAfter = Number(limited.headers.get('retry-after'));
		expect(retryAfter).toBeGreaterThanOrEqual(59);
		expect(limited.json.error.retry_after).toBe(retryAfter);
		expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
		expect(Number(limited.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
	});

	it('uses a fixed Retry-After when configured and opens a new window exactly windowMs later (on the injected clock)', async () => {
		let now = Date.now();
		sb = await KallglotSandbox.start({ rateLimit: { limit: 1, windowMs: 150, retryAfterSeconds: 7, now: () => now } });
		await api(sb, 'GET', '/agents');
		const limited = await api(sb, 'GET', '/agents');
		expect(limited.headers.get('retry-after')).toBe('7');
		now += 149;
		expect((await api(sb, 'GET', '/agents')).status).toBe(429);
		now += 1;
		expect((await api(sb, 'GET', '/agents')).status).toBe(200);
	});
});

describe('REST faults', () => {
	beforeEach(async () => {
		sb = await KallglotSandbox.start();
	});

	it('answers an injected status before processing, then recovers', async () => {
		sb.injectFault({ method: 'POST', path: '/sessions', status: 503, retryAfter: 2 });
		const faulted = await api(sb, 'POST', '/sessions', { body: { mode: 'bidirectional_translation' } });
		expect(faulted.status).toBe(503);
		expect(faulted.json.error).toMatchObject({ type: 'api_error', code: 'service_unavailable', retry_after: 2 });
		expect(faulted.headers.get('retry-after')).toBe('2');
		expect(sb.sessions.size).toBe(0);
		expect(sb.requests[0]).toMatchObject({ status: 503, fault: 'status' });
		expect((await api(sb, 'POST', '/sessions', { body: { mode: 'bidirectional_translation' } })).status).toBe(201);
	});

	it('drops the connection without a response and records it with status 0', async () => {
		sb.injectFault({ path: '/sessions', drop: true });
		await expect(api(sb, 'POST', '/sessions', { body: { mode: 'bidirectional_translation' } })).rejects.toThrow();
		expect(sb.sessions.size).toBe(0);
		expect(sb.requests).toHaveLength(1);
		expect(sb.requests[0]).toMatchObject({ method: 'POST', path: '/v1/sessions', status: 0, fault: 'drop' });
	});

	it("'after' processes the request and loses the response: an idempotent retry gets the session", async () => {
		sb.injectFault({ method: 'POST', path: '/sessions', drop: true, when: 'after' });
		const body = { mode: 'bidirectional_translation' };
		const headers = { 'idempotency-key': 'lost-1' };
		await expect(api(sb, 'POST', '/sessions', { body, headers })).rejects.toThrow();
		expect(sb.sessions.size).toBe(1);
		const retry = await api(sb, 'POST', '/sessions', { body, headers });
		expect(retry.status).toBe(201);
		expect(retry.json.id).toBe([...sb.sessions.keys()][0]);
		expect(sb.creditsUsed).toBe(1);

		sb.injectFault({ method: 'POST', path: /^\/v1\/sessions$/, status: 500, when: 'after' });
		const replaced = await api(sb, 'POST', '/sessions', { body });
		expect(replaced.status).toBe(500);
		expect(sb.sessions.size).toBe(2);
	});

	it('matches method and path, honours times, and accepts faults over the control endpoint', async () => {
		sb.injectFault({ method: 'GET', path: /^\/v1\/agents/, status: 502, times: 2 });
		expect((await createSession(sb)).status).toBe(201); // POST is not matched
		expect((await api(sb, 'GET', '/agents')).status).toBe(502);
		expect((await api(sb, 'GET', `/agents/${SANDBOX_AGENT_ID}`)).status).toBe(502);
		expect((await api(sb, 'GET', '/agents')).status).toBe(200);

		const posted = await fetch(`${sb.controlUrl}/faults`, {
			method: 'POST',
			body: JSON.stringify({ pathRegex: '^/v1/agents$', status: 429, code: 'rate_limit_exceeded', retryAfter: 3 }),
		});
		expect(posted.status).toBe(201);
		const limited = await api(sb, 'GET', '/agents');
		expect(limited.status).toBe(429);
		expect(limited.headers.get('retry-after')).toBe('3');
		const bad = await fetch(`${sb.controlUrl}/faults`, { method: 'POST', body: JSON.stringify({ when: 'later' }) });
		expect(bad.status).toBe(400);
	});
});

describe('sessions: retrieve, end, dial, transcript', () => {
	beforeEach(async () => {
		sb = await KallglotSandbox.start();
	});

	it('GET issues a fresh stream token on every call while the session is live', async () => {
		const created = (await createSession(sb)).json;
		const first = await api(sb, 'GET', `/sessions/${created.id}`);
		const second = await api(sb, 'GET', `/sessions/${created.id}`);
		expect(first.status).toBe(200);
		expect(first.json).toMatchObject({ id: created.id, status: 'created', started_at: null, ended_at: null });
		expect(first.json.stream.url).toBe(created.stream.url);
		const tokens = new Set([created.stream.token, first.json.stream.token, second.json.stream.token]);
		expect(tokens.size).toBe(3);
		expect((await api(sb, 'GET', '/sessions/sess_UNKNOWN')).json.error.code).toBe('session_not_found');
	});

	it('ends idempotently and drops `stream` from the ended session', async () => {
		const created = (await createSession(sb)).json;
		const end = await api(sb, 'POST', `/sessions/${created.id}/end`);
		expect(end.status).toBe(200);
		expect(end.json).toEqual({ id: created.id, object: 'session', status: 'ended', duration_seconds: 0, ended_at: expect.any(String) });
		const again = await api(sb, 'POST', `/sessions/${created.id}/end`);
		expect(again.json).toEqual(end.json);
		const after = await api(sb, 'GET', `/sessions/${created.id}`);
		expect(after.json.status).toBe('ended');
		expect(after.json.ended_at).toBe(end.json.ended_at);
		expect(after.json).not.toHaveProperty('stream');
		expect(sb.sessions.get(created.id)?.endReason).toBe('ended_by_api');
	});

	it('dials: validates `to`, links the call, refuses ended sessions', async () => {
		const created = (await createSession(sb, { mode: 'bidirectional_translation', routing: { connection_id: 'pcon_x1' } })).json;
		const bad = await api(sb, 'POST', `/sessions/${created.id}/dial`, { body: { to: '0612345678' } });
		expect(bad.status).toBe(422);
		expect(bad.json.error.param).toBe('to');
		const dial = await api(sb, 'POST', `/sessions/${created.id}/dial`, { body: { to: '+34612345678' } });
		expect(dial.status).toBe(200);
		expect(dial.json.call).toEqual({ id: expect.stringMatching(/^call_/), object: 'call', provider: 'telnyx', to: '+34612345678', status: 'dialing' });
		expect(dial.json.stream.token).toMatch(/^kst_test_/);
		await api(sb, 'POST', `/sessions/${created.id}/end`);
		const ended = await api(sb, 'POST', `/sessions/${created.id}/dial`, { body: { to: '+34612345678' } });
		expect(ended.status).toBe(409);
		expect(ended.json.error.code).toBe('session_ended');
	});

	it('returns an empty in-progress transcript before any call audio', async () => {
		const created = (await createSession(sb)).json;
		const res = await api(sb, 'GET', `/sessions/${created.id}/transcript`);
		expect(res.json).toEqual({
			id: expect.stringMatching(/^trn_/),
			object: 'transcript',
			session_id: created.id,
			status: 'in_progress',
			turns: [],
			metadata: { total_turns: 0, duration_seconds: 0, languages_detected: [] },
		});
	});
});

describe('GET /v1/agents', () => {
	beforeEach(async () => {
		sb = await KallglotSandbox.start();
	});

	it('paginates with limit and starting_after across pages', async () => {
		const pages: Array<{ data: Array<{ id: string; name: string; object: string }>; has_more: boolean }> = [];
		let cursor: string | undefined;
		do {
			const res = await api(sb, 'GET', `/agents?limit=10${cursor === undefined ? '' : `&starting_after=${cursor}`}`);
			expect(res.status).toBe(200);
			expect(res.json.object).toBe('list');
			pages.push(res.json);
			cursor = res.json.data.at(-1)?.id;
		} while (pages.at(-1)?.has_more === true && pages.length < 10);
		expect(pages.map((p) => p.data.length)).toEqual([10, 10, 5]);
		expect(pages.map((p) => p.has_more)).toEqual([true, true, false]);
		const all = pages.flatMap((p) => p.data);
		expect(new Set(all.map((a) => a.id)).size).toBe(25);
		expect(all[0]).toEqual({ id: SANDBOX_AGENT_ID, object: 'agent', name: 'Appointment Setter', description: expect.any(String), created_at: expect.any(String) });
		expect(all.map((a) => a.name)).toContain('Payment Reminder');
		expect(new Set(all.map((a) => a.name)).size).toBe(25);
	});

	it('defaults to 20 and validates limit and starting_after', async () => {
		const first = await api(sb, 'GET', '/agents');
		expect(first.json.data).toHaveLength(20);
		expect(first.json.has_more).toBe(true);
		for (const limit of ['0', '101', 'abc', '2.5']) {
			const res = await api(sb, 'GET', `/agents?limit=${limit}`);
			expect(res.status).toBe(422);
			expect(res.json.error.param).toBe('limit');
		}
		const cursor = await api(sb, 'GET', '/agents?starting_after=agt_missing');
		expect(cursor.status).toBe(422);
		expect(cursor.json.error.param).toBe('starting_after');
		const last = await api(sb, 'GET', '/agents?limit=100');
		expect(last.json).toMatchObject({ has_more: false });
		expect(last.json.data).toHaveLength(25);
	});

	it('retrieves one agent, 404 agent_not_found otherwise; the seed count is configurable', async () => {
		expect((await api(sb, 'GET', `/agents/${SANDBOX_AGENT_ID}`)).json.name).toBe('Appointment Setter');
		const missing = await api(sb, 'GET', '/agents/agt_missing');
		expect(missing.status).toBe(404);
		expect(missing.json.error.code).toBe('agent_not_found');
		await sb.close();
		sb = await KallglotSandbox.start({ agents: 3 });
		expect((await api(sb, 'GET', '/agents')).json.data).toHaveLength(3);
	});
});

describe('recording and control endpoints', () => {
	beforeEach(async () => {
		sb = await KallglotSandbox.start();
	});

	it('records every request with lower-cased raw headers, query and parsed body', async () => {
		await api(sb, 'POST', '/sessions', { body: { mode: 'help_chat_voice' }, headers: { 'Idempotency-Key': 'rec-1' } });
		await api(sb, 'GET', '/agents?limit=5', { apiKey: 'sk_test_bad' });
		expect(sb.requests).toHaveLength(2);
		const [post, get] = sb.requests;
		expect(post).toMatchObject({ method: 'POST', path: '/v1/sessions', body: { mode: 'help_chat_voice' }, status: 201, requestId: expect.stringMatching(/^req_/) });
		expect(post.headers['idempotency-key']).toBe('rec-1');
		expect(post.headers.authorization).toBe(`Bearer ${sb.apiKey}`);
		expect(get).toMatchObject({ method: 'GET', path: '/v1/agents', query: { limit: '5' }, status: 401, body: null });
		expect(typeof get.at).toBe('number');

		const listed = (await (await fetch(`${sb.controlUrl}/requests`)).json()) as Array<{ status: number }>;
		expect(listed.map((r) => r.status)).toEqual([201, 401]);
		expect((await fetch(`${sb.controlUrl}/requests`, { method: 'DELETE' })).status).toBe(200);
		expect(sb.requests).toHaveLength(0);
		await api(sb, 'GET', '/agents');
		sb.clearRequests();
		expect(sb.requests).toHaveLength(0);
	});

	it('reports stats and sessions, and sets credits, over /_sandbox', async () => {
		const created = (await createSession(sb)).json;
		const stats = await (await fetch(`${sb.controlUrl}/stats`)).json();
		expect(stats).toEqual({
			openStreams: 0,
			sessions: [{ id: created.id, status: 'created', framesSent: 0, connections: 0, openConnections: 0 }],
			credits: null,
		});
		const sessions = await (await fetch(`${sb.controlUrl}/sessions`)).json();
		expect(sessions).toEqual([expect.objectContaining({ id: created.id, status: 'created', started_at: null })]);
		await fetch(`${sb.controlUrl}/credits`, { method: 'PUT', body: JSON.stringify({ credits: 0 }) });
		expect((await api(sb, 'POST', '/sessions', { body: { mode: 'help_chat_voice' } })).status).toBe(402);
		const ended = await fetch(`${sb.controlUrl}/sessions/${created.id}/end`, { method: 'POST' });
		expect(await ended.json()).toEqual({ id: created.id, status: 'ended' });
		expect((await fetch(`${sb.controlUrl}/nope`)).status).toBe(404);
	});
});
