import { KallglotSandbox } from '../../sandbox';
import { runKallglotNode } from '../helpers/engine';

let sandbox: KallglotSandbox;
const credentials = () => ({ apiKey: sandbox.apiKey, baseUrl: sandbox.baseUrl });
const createParams = { resource: 'session', operation: 'create', mode: 'bidirectional_translation' };
const creates = () => sandbox.requests.filter((r) => r.method === 'POST' && r.path === '/v1/sessions');

beforeEach(async () => {
	sandbox = await KallglotSandbox.start({ credits: 5 });
});
afterEach(async () => {
	await sandbox.close();
});

describe('Kallglot errors become NodeApiErrors with code, message and request id', () => {
	test('401: a wrong key, without the key in the message', async () => {
		const wrongKey = 'sk_test_wrong_key_0000';
		const { error } = await runKallglotNode({ parameters: createParams, credentials: { ...credentials(), apiKey: wrongKey } });
		expect(error?.name).toBe('NodeApiError');
		expect(error?.message).toMatch(/^Kallglot 401 invalid_api_key: /);
		expect(error?.description).toMatch(/API key was refused/);
		expect(error?.description).toMatch(/request ID: req_/);
		expect(JSON.stringify(error)).not.toContain(wrongKey);
		expect(creates()).toHaveLength(1); // never retried
	});

	test('402: credits exhausted, not retried, tells to top up', async () => {
		sandbox.credits = 0;
		const { error } = await runKallglotNode({ parameters: createParams, credentials: credentials() });
		expect(error?.message).toMatch(/Kallglot 402 insufficient_api_credits/);
		expect(error?.description).toMatch(/Top up credits/);
		expect(error?.httpCode).toBe('402');
		expect(creates()).toHaveLength(1);
	});

	test('403 organization_inactive', async () => {
		sandbox.injectFault({ path: '/v1/sessions', status: 403, code: 'organization_inactive' });
		const { error } = await runKallglotNode({ parameters: createParams, credentials: credentials() });
		expect(error?.message).toMatch(/Kallglot 403 organization_inactive/);
		expect(error?.description).toMatch(/organization is inactive.*Reactivate/);
	});

	test('404 on an unknown session', async () => {
		const { error } = await runKallglotNode({
			parameters: { resource: 'session', operation: 'get', sessionId: 'sess_DOESNOTEXIST' },
			credentials: credentials(),
		});
		expect(error?.message).toMatch(/Kallglot 404 session_not_found/);
		expect(error?.description).toMatch(/No session has this ID/);
	});

	test('422 names the field Kallglot rejected (via the escape hatch)', async () => {
		const { error } = await runKallglotNode({
			parameters: { ...createParams, additionalOptions: { additionalBodyFields: '{"audio": {"channels": 7}}' } },
			credentials: credentials(),
		});
		expect(error?.message).toMatch(/Kallglot 422 \w+: /);
		expect(error?.description).toMatch(/Field: audio\.channels\./);
	});

	test('429 is retried after Retry-After with the same Idempotency-Key: one session', async () => {
		sandbox.injectFault({ path: '/v1/sessions', status: 429, code: 'rate_limit_exceeded', retryAfter: 0, times: 2 });
		const { items, error } = await runKallglotNode({ parameters: createParams, credentials: credentials() });
		expect(error).toBeUndefined();
		expect(items).toHaveLength(1);
		const keys = creates().map((r) => r.headers['idempotency-key']);
		expect(keys).toHaveLength(3);
		expect(new Set(keys).size).toBe(1);
		expect(sandbox.sessions.size).toBe(1);
	});

	test('a lost response after the session was created: the retry returns the same session', async () => {
		sandbox.injectFault({ path: '/v1/sessions', drop: true, when: 'after' });
		sandbox.injectFault({ path: '/v1/sessions', status: 503, when: 'after' });
		const { items, error } = await runKallglotNode({ parameters: createParams, credentials: credentials() });
		expect(error).toBeUndefined();
		expect(sandbox.sessions.size).toBe(1);
		expect(items?.[0].json.id).toBe([...sandbox.sessions.keys()][0]);
		expect(new Set(creates().map((r) => r.headers['idempotency-key'])).size).toBe(1);
		expect(sandbox.credits).toBe(4); // billed once
	});

	test('5xx that never clears: bounded retries, then a clear error', async () => {
		sandbox.injectFault({ path: '/v1/sessions', status: 500, times: 10 });
		const { error } = await runKallglotNode({ parameters: createParams, credentials: credentials() });
		expect(error?.message).toMatch(/Kallglot 500/);
		expect(creates()).toHaveLength(4); // the first try + 3 retries
		expect(sandbox.sessions.size).toBe(0);
	});

	test('Dial does not retry a failed SIP dial (502): it would ring again', async () => {
		const created = await runKallglotNode({ parameters: createParams, credentials: credentials() });
		const id = created.items?.[0].json.id as string;
		sandbox.injectFault({ path: `/v1/sessions/${id}/dial`, status: 502, code: 'sip_dial_failed' });
		const { error } = await runKallglotNode({
			parameters: { resource: 'session', operation: 'dial', sessionId: id, to: '+14155550100' },
			credentials: credentials(),
		});
		expect(error?.message).toMatch(/Kallglot 502 sip_dial_failed/);
		expect(sandbox.requests.filter((r) => r.path.endsWith('/dial'))).toHaveLength(1);
	});

	test('continueOnFail: every item gets an output paired to its input, errors included', async () => {
		const result = await runKallglotNode({
			parameters: {
				resource: 'session',
				operation: 'create',
				mode: 'bidirectional_translation',
				routing: 'phoneNumber',
				phoneNumber: '={{ $json.phone }}',
			},
			input: [{ json: { phone: '+14155550001' } }, { json: { phone: 'not a number' } }, { json: { phone: '+14155550003' } }],
			credentials: credentials(),
			continueOnFail: true,
		});
		expect(result.error).toBeUndefined();
		expect(result.items?.map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		expect(result.items?.[0].json.id).toMatch(/^sess_/);
		expect(result.items?.[1].json.error).toMatch(/Phone Number "not a number"/);
		expect(result.items?.[2].json.id).toMatch(/^sess_/);
		expect(creates()).toHaveLength(2);
	});
});

describe('an answer without the shape the operation reads', () => {
	/** A stand-in for a Kallglot that answers 200 with a session that has no id. */
	async function malformedKallglot(): Promise<{ baseUrl: string; close: () => Promise<void> }> {
		const { createServer } = await import('node:http');
		const server = createServer((_request, response) => {
			response.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'req_malformed' });
			response.end(JSON.stringify({ status: 'active' }));
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		const { port } = server.address() as { port: number };
		return { baseUrl: `http://127.0.0.1:${port}/v1`, close: async () => await new Promise<void>((resolve) => server.close(() => resolve())) };
	}

	test('fails the item naming the call, instead of passing on what it cannot read; continueOnFail keeps the item', async () => {
		const kallglot = await malformedKallglot();
		try {
			const parameters = { resource: 'session', operation: 'get', sessionId: 'sess_abc' };
			const failed = await runKallglotNode({ parameters, credentials: { apiKey: 'sk_test_malformed', baseUrl: kallglot.baseUrl } });
			expect(failed.error?.message).toMatch(/^Kallglot's answer to GET \/sessions\/sess_abc is not what the node expects: /);
			expect(failed.items).toBeUndefined();
			expect(JSON.stringify(failed.error)).not.toContain('sk_test_malformed');
			const kept = await runKallglotNode({ parameters, credentials: { apiKey: 'sk_test_malformed', baseUrl: kallglot.baseUrl }, continueOnFail: true });
			expect(kept.items?.[0].json.error).toMatch(/is not what the node expects/);
			expect(kept.items?.[0].pairedItem).toEqual({ item: 0 });
		} finally {
			await kallglot.close();
		}
	});
});
