/**
 * n8n's error output, the help desk's optional agent, scopes in 403s, Allowed Destinations and
 * the credential test's messages: each through n8n-core's real WorkflowExecute and the sandbox.
 */
import { CREDENTIAL_TEST_MESSAGES, KallglotApi } from '../../credentials/KallglotApi.credentials';
import { KallglotSandbox } from '../../sandbox';
import { runKallglotNode } from '../helpers/engine';

/** lodash's get for dotted keys, as n8n's tester reads a rule's key. */
const get = (value: unknown, key: string): unknown =>
	key.split('.').reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), value);

let sandbox: KallglotSandbox;
const SCOPED_KEY = 'sk_test_read_only_0001';
const EXPIRED_KEY = 'sk_test_expired_0002';
const REVOKED_KEY = 'sk_test_revoked_0003';
const credentials = (apiKey = sandbox.apiKey) => ({ apiKey, baseUrl: sandbox.baseUrl });

beforeAll(async () => {
	sandbox = await KallglotSandbox.start({
		keyProfiles: {
			[SCOPED_KEY]: { scopes: ['sessions:read'] },
			[EXPIRED_KEY]: { state: 'expired' },
			[REVOKED_KEY]: { state: 'revoked' },
		},
	});
});
afterAll(async () => {
	await sandbox.close();
});
beforeEach(() => {
	sandbox.clearRequests();
	sandbox.clearFaults();
});

async function createdSessionId(): Promise<string> {
	const { items, error } = await runKallglotNode({
		parameters: { resource: 'session', operation: 'create', mode: 'bidirectional_translation' },
		credentials: credentials(),
	});
	if (error) throw error;
	return items?.[0].json.id as string;
}

describe('On Error: every failed item reaches the output the setting names', () => {
	const dialItems = (_id: string) => [{ json: { to: '+14155550101' } }, { json: { to: '+14155550102' } }, { json: { to: 'not-a-number' } }];
	const dialParams = (id: string) => ({ resource: 'session', operation: 'dial', sessionId: id, to: '={{ $json.to }}' });

	test('"Continue (using error output)": a 502 dial and a bad number go to the error output, paired to their inputs', async () => {
		const id = await createdSessionId();
		sandbox.injectFault({ path: `/v1/sessions/${id}/dial`, status: 502, code: 'sip_dial_failed' });
		const { items, errorItems, error } = await runKallglotNode({
			parameters: dialParams(id),
			input: dialItems(id),
			credentials: credentials(),
			onError: 'continueErrorOutput',
		});
		expect(error).toBeUndefined();
		expect(items?.map((i) => i.pairedItem)).toEqual([{ item: 1 }]);
		expect(items?.[0].json.id).toBe(id);
		expect(errorItems?.map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 2 }]);
		expect(errorItems?.[0].json).toEqual({
			message: expect.stringMatching(/^Kallglot 502 sip_dial_failed/),
			error: { message: expect.stringMatching(/^Kallglot 502/), description: expect.stringMatching(/could not be placed/), httpCode: '502' },
		});
		expect(errorItems?.[1].json.message).toMatch(/To "not-a-number"/);
		expect(errorItems?.[1].json.error).toEqual({ message: expect.any(String), description: expect.stringMatching(/Nothing was sent/) });
	});

	test('"Continue (using regular output)": {error, description} stay on the only output', async () => {
		const id = await createdSessionId();
		sandbox.injectFault({ path: `/v1/sessions/${id}/dial`, status: 502, code: 'sip_dial_failed' });
		const { items, error, run } = await runKallglotNode({
			parameters: dialParams(id),
			input: dialItems(id),
			credentials: credentials(),
			onError: 'continueRegularOutput',
		});
		expect(error).toBeUndefined();
		expect(run.data.resultData.runData.Kallglot[0].data?.main).toHaveLength(1);
		expect(items?.map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		expect(items?.[0].json).toEqual({ error: expect.stringMatching(/Kallglot 502/), description: expect.any(String) });
		expect(items?.[1].json.id).toBe(id);
		expect(items?.[2].json).toEqual({ error: expect.stringMatching(/To "not-a-number"/), description: expect.any(String) });
	});

	test.each([
		['create', { resource: 'session', operation: 'create', mode: 'ai_agent', agent: { __rl: true, mode: 'id', value: 'agt_MISSING' } }],
		['get', { resource: 'session', operation: 'get', sessionId: 'sess_MISSING' }],
		['end', { resource: 'session', operation: 'end', sessionId: 'sess_MISSING' }],
		['getTranscript', { resource: 'session', operation: 'getTranscript', sessionId: 'sess_MISSING' }],
		['agent getMany', { resource: 'agent', operation: 'getMany', limit: 0 }],
	])('%s: a failure goes to the error output', async (_name, parameters) => {
		const { items, errorItems, error } = await runKallglotNode({ parameters, credentials: credentials(), onError: 'continueErrorOutput' });
		expect(error).toBeUndefined();
		expect(items).toEqual([]);
		expect(errorItems).toHaveLength(1);
		expect(errorItems?.[0].json.message).toEqual(expect.any(String));
		expect(errorItems?.[0].pairedItem).toEqual({ item: 0 });
	});
});

describe('Help Chat Voice may name an agent; translation modes may not', () => {
	const agentId = () => sandbox.agents[0].id;

	test('help_chat_voice with an agent sends ai_agent.agent_id', async () => {
		const { items, error } = await runKallglotNode({
			parameters: { resource: 'session', operation: 'create', mode: 'help_chat_voice', agent: { __rl: true, mode: 'list', value: agentId() } },
			credentials: credentials(),
		});
		expect(error).toBeUndefined();
		expect(items?.[0].json.mode).toBe('help_chat_voice');
		expect(sandbox.requests[0].body).toEqual({ mode: 'help_chat_voice', ai_agent: { agent_id: agentId() } });
	});

	test('help_chat_voice without an agent sends none', async () => {
		const { error } = await runKallglotNode({
			parameters: { resource: 'session', operation: 'create', mode: 'help_chat_voice', agent: { __rl: true, mode: 'list', value: '' } },
			credentials: credentials(),
		});
		expect(error).toBeUndefined();
		expect(sandbox.requests[0].body).toEqual({ mode: 'help_chat_voice' });
	});

	// README "Validation and errors": n8n drops parameters hidden by their display conditions
	// before the node runs, so an Agent left on a translation mode is simply not sent.
	test('an agent left on a translation mode (e.g. imported JSON) is dropped by n8n: nothing is sent', async () => {
		const { error } = await runKallglotNode({
			parameters: { resource: 'session', operation: 'create', mode: 'assistive_translation', agent: { __rl: true, mode: 'id', value: agentId() } },
			credentials: credentials(),
		});
		expect(error).toBeUndefined();
		expect(sandbox.requests[0].body).toEqual({ mode: 'assistive_translation' });
	});

	test('the description shows the Agent for AI Agent (required) and Help Chat Voice (optional) only', () => {
		const { Kallglot } = jest.requireActual('../../nodes/Kallglot/Kallglot.node');
		const agents = new Kallglot().description.properties.filter((p: { name: string }) => p.name === 'agent');
		expect(agents.map((p: { required?: boolean; displayOptions: { show: { mode: string[] } } }) => [p.displayOptions.show.mode, p.required])).toEqual([
			[['ai_agent'], true],
			[['help_chat_voice'], false],
		]);
	});
});

describe('a 403 insufficient_permissions names the scope the operation needs', () => {
	test.each([
		['create', { resource: 'session', operation: 'create', mode: 'bidirectional_translation' }, 'sessions:write'],
		['end', { resource: 'session', operation: 'end', sessionId: 'sess_ANY' }, 'sessions:write'],
		['dial', { resource: 'session', operation: 'dial', sessionId: 'sess_ANY', to: '+14155550100' }, 'sessions:write'],
		['recording get', { resource: 'recording', operation: 'get', recordingId: 'rec_ANY' }, 'recordings:read'],
		['recording download', { resource: 'recording', operation: 'download', recordingId: 'rec_ANY' }, 'recordings:read'],
		['recording getMany', { resource: 'recording', operation: 'getMany', sessionId: 'sess_ANY' }, 'recordings:read'],
		['analysis create', { resource: 'analysis', operation: 'create', sessionId: 'sess_ANY' }, 'analysis:read'],
		['analysis get', { resource: 'analysis', operation: 'get', analysisId: 'anl_ANY' }, 'analysis:read'],
	])('%s needs %s', async (_name, parameters, scope) => {
		const { error } = await runKallglotNode({ parameters, credentials: credentials(SCOPED_KEY) });
		expect(error?.message).toMatch(/^Kallglot 403 insufficient_permissions/);
		expect(error?.description).toContain(`needs the API key scope "${scope}"`);
		expect(sandbox.requests).toHaveLength(1); // a 403 is not retried
	});

	test('the read scope the key has works (get answers 404 for a session it does not own, not 403)', async () => {
		const { error } = await runKallglotNode({
			parameters: { resource: 'session', operation: 'get', sessionId: 'sess_NOT_MINE' },
			credentials: credentials(SCOPED_KEY),
		});
		expect(error?.message).toMatch(/Kallglot 404 session_not_found/);
	});
});

describe('Allowed Destinations refuses other numbers before any request', () => {
	test('Dial: a number outside the prefixes names field, value and fix; one inside is dialled', async () => {
		const id = await createdSessionId();
		sandbox.clearRequests();
		const options = { allowedDestinations: '+1, +34' };
		const { items, error } = await runKallglotNode({
			parameters: { resource: 'session', operation: 'dial', sessionId: id, to: '={{ $json.to }}', options },
			input: [{ json: { to: '+4930123456' } }, { json: { to: '+34911222333' } }],
			credentials: credentials(),
			continueOnFail: true,
		});
		expect(error).toBeUndefined();
		expect(items?.[0].json.error).toBe('To "+4930123456" is not an allowed destination (Allowed Destinations: +1, +34)');
		expect(items?.[0].json.description).toMatch(/Nothing was sent to Kallglot.*\+1 or \+34.*Allowed Destinations/);
		expect(items?.[1].json.id).toBe(id);
		expect(sandbox.requests.map((r) => r.body)).toEqual([{ to: '+34911222333' }]);
	});

	test('Create with a managed phone number outside the prefixes: refused, with the item index', async () => {
		const { error } = await runKallglotNode({
			parameters: {
				resource: 'session',
				operation: 'create',
				mode: 'ai_agent',
				agent: { __rl: true, mode: 'id', value: sandbox.agents[0].id },
				routing: 'phoneNumber',
				phoneNumber: '+442079460000',
				additionalOptions: { allowedDestinations: '+1' },
			},
			credentials: credentials(),
		});
		expect(error?.name).toBe('NodeOperationError');
		expect(error?.message).toMatch(/Phone Number "\+442079460000" is not an allowed destination/);
		expect(error?.context?.itemIndex).toBe(0);
		expect(sandbox.requests).toHaveLength(0);
	});

	test('a malformed list is itself refused', async () => {
		const { error } = await runKallglotNode({
			parameters: { resource: 'session', operation: 'dial', sessionId: 'sess_X', to: '+14155550100', options: { allowedDestinations: 'US, +34' } },
			credentials: credentials(),
		});
		expect(error?.message).toMatch(/Invalid Allowed Destinations "US, \+34": "US" is not an E\.164 prefix/);
		expect(sandbox.requests).toHaveLength(0);
	});
});

describe('credential test rules turn Kallglot codes into messages', () => {
	const { test: credentialTest } = new KallglotApi();
	/** n8n's tester with ignoreHttpStatusErrors: the first responseSuccessBody rule that matches the body. */
	async function verdict(apiKey: string, baseUrl = sandbox.baseUrl): Promise<string> {
		expect(credentialTest.request.ignoreHttpStatusErrors).toBe(true);
		const res = await fetch(`${baseUrl}/agents?limit=1`, { headers: { Authorization: `Bearer ${apiKey}` } });
		const body = await res.json().catch(() => ({}));
		for (const rule of credentialTest.rules ?? []) {
			if (rule.type === 'responseSuccessBody' && get(body, rule.properties.key) === rule.properties.value) return rule.properties.message;
		}
		return 'OK';
	}

	test.each([
		['a wrong key', 'sk_test_wrong_0000', 'invalid_api_key'],
		['an expired key', EXPIRED_KEY, 'expired_api_key'],
		['a revoked key', REVOKED_KEY, 'revoked_api_key'],
	])('%s', async (_name, key, code) => {
		const message = await verdict(key);
		expect(message).toBe(CREDENTIAL_TEST_MESSAGES[code]);
		expect(message).toMatch(new RegExp(`^Kallglot 401 ${code}: .*(Create a new key|Copy the key again)`));
	});

	test('an inactive organization', async () => {
		sandbox.injectFault({ path: '/v1/agents', status: 403, code: 'organization_inactive' });
		expect(await verdict(sandbox.apiKey)).toMatch(/^Kallglot 403 organization_inactive: .*Reactivate/);
	});

	test('the right key (and a read-only one) passes', async () => {
		expect(await verdict(sandbox.apiKey)).toBe('OK');
		expect(await verdict(SCOPED_KEY)).toBe('OK');
	});

	test('another error, or a server that is not Kallglot, fails with the catch-all', async () => {
		sandbox.injectFault({ path: '/v1/agents', status: 500 });
		expect(await verdict(sandbox.apiKey)).toMatch(/did not answer with a list of agents/);
		expect(await verdict(sandbox.apiKey, `${sandbox.baseUrl.replace(/\/v1$/, '')}/nowhere`)).toMatch(/did not answer with a list/);
	});
});
