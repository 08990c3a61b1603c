import { KallglotSandbox } from '../../sandbox';
import { runKallglotNode } from '../helpers/engine';

let sandbox: KallglotSandbox;
const credentials = () => ({ apiKey: sandbox.apiKey, baseUrl: sandbox.baseUrl });
const creates = () => sandbox.requests.filter((r) => r.method === 'POST' && r.path === '/v1/sessions');

beforeAll(async () => {
	sandbox = await KallglotSandbox.start();
});
afterAll(async () => {
	await sandbox.close();
});
beforeEach(() => sandbox.clearRequests());

async function create(parameters: Record<string, unknown>) {
	const result = await runKallglotNode({
		parameters: { resource: 'session', operation: 'create', ...parameters } as never,
		credentials: credentials(),
	});
	if (result.error) throw result.error;
	return result;
}

describe('Session → Create: the request body', () => {
	test('minimal: only the mode, everything else omitted', async () => {
		const { items } = await create({ mode: 'bidirectional_translation' });
		expect(creates()).toHaveLength(1);
		expect(creates()[0].body).toEqual({ mode: 'bidirectional_translation' });
		expect(items?.[0].json).toMatchObject({ id: expect.stringMatching(/^sess_/), status: 'created' });
		// The next step may need the stream token, so the session is returned as Kallglot sent it.
		expect(items?.[0].json.stream).toMatchObject({ token: expect.stringMatching(/^kst_/) });
	});

	test('managed phone number routing with direction and languages', async () => {
		await create({
			mode: 'assistive_translation',
			sourceLanguage: 'es',
			targetLanguage: 'en',
			routing: 'phoneNumber',
			phoneNumber: '+14155551234',
			direction: 'inbound',
			// A value of a hidden variant must not leak into the body.
			connectionId: 'pcon_should_not_be_sent',
		});
		expect(creates()[0].body).toEqual({
			mode: 'assistive_translation',
			source_language: 'es',
			target_language: 'en',
			routing: { phone_number: '+14155551234', direction: 'inbound' },
		});
	});

	test('provider connection routing', async () => {
		await create({ mode: 'bidirectional_translation', routing: 'connection', connectionId: 'pcon_01HXYZ' });
		expect(creates()[0].body).toEqual({
			mode: 'bidirectional_translation',
			routing: { connection_id: 'pcon_01HXYZ' },
		});
	});

	test('SIP routing with From URI, X- headers and direction', async () => {
		await create({
			mode: 'bidirectional_translation',
			routing: 'sip',
			sipFromUri: 'sip:alice@example.com',
			sipHeaders: { header: [{ name: 'X-Customer-Id', value: '42' }, { name: 'X-Queue', value: 'billing' }] },
			direction: 'outbound',
		});
		expect(creates()[0].body).toEqual({
			mode: 'bidirectional_translation',
			routing: {
				type: 'sip',
				sip: { from_uri: 'sip:alice@example.com', headers: { 'X-Customer-Id': '42', 'X-Queue': 'billing' } },
				direction: 'outbound',
			},
		});
	});

	test('SIP routing with no details sends only the type', async () => {
		await create({ mode: 'bidirectional_translation', routing: 'sip' });
		expect(creates()[0].body).toEqual({ mode: 'bidirectional_translation', routing: { type: 'sip' } });
	});

	test('organization default sends no routing even when a direction is left over', async () => {
		await create({ mode: 'bidirectional_translation', routing: 'default', direction: 'outbound' });
		expect(creates()[0].body).toEqual({ mode: 'bidirectional_translation' });
	});

	test('audio, voice and recording options are sent exactly as set', async () => {
		await create({
			mode: 'bidirectional_translation',
			audio: { encoding: 'mulaw', sampleRate: 8000, channels: 1 },
			voice: { voiceId: 'nova', stability: 0.3, similarityBoost: 0.9, speed: 1.25 },
			recording: { enabled: true, mixMode: 'mixed', consentRequired: true, consentState: 'granted' },
		});
		expect(creates()[0].body).toEqual({
			mode: 'bidirectional_translation',
			audio: { encoding: 'mulaw', sample_rate: 8000, channels: 1 },
			voice: { voice_id: 'nova', stability: 0.3, similarity_boost: 0.9, speed: 1.25 },
			recording: { enabled: true, mix_mode: 'mixed', consent_required: true, consent_state: 'granted' },
		});
	});

	test('a partly filled option collection sends only what was set', async () => {
		await create({ mode: 'bidirectional_translation', voice: { speed: 0.8 }, audio: {}, recording: {} });
		expect(creates()[0].body).toEqual({ mode: 'bidirectional_translation', voice: { speed: 0.8 } });
	});

	test('AI agent from the list, overrides, metadata pairs + JSON, additional body fields merged last', async () => {
		const agentId = sandbox.agents[0].id;
		await create({
			mode: 'ai_agent',
			agent: { __rl: true, mode: 'list', value: agentId },
			routing: 'phoneNumber',
			phoneNumber: '+14155550000',
			direction: 'outbound',
			metadata: { entry: [{ key: 'customer_id', value: '123' }, { key: 'campaign', value: 'spring' }] },
			additionalOptions: {
				agentOverrides: '{"greeting": "Hola"}',
				metadataJson: '{"campaign": "summer", "attempt": 2}',
				additionalBodyFields: '{"experimental_flag": true, "voice": {"voice_id": "echo"}}',
			},
		});
		expect(creates()[0].body).toEqual({
			mode: 'ai_agent',
			routing: { phone_number: '+14155550000', direction: 'outbound' },
			ai_agent: { agent_id: agentId, overrides: { greeting: 'Hola' } },
			metadata: { customer_id: '123', campaign: 'summer', attempt: 2 },
			voice: { voice_id: 'echo' },
			experimental_flag: true,
		});
	});

	test('an Idempotency-Key is generated per item and differs between items', async () => {
		const result = await runKallglotNode({
			parameters: { resource: 'session', operation: 'create', mode: 'bidirectional_translation' },
			input: [{ json: {} }, { json: {} }],
			credentials: credentials(),
		});
		expect(result.items).toHaveLength(2);
		const keys = creates().map((r) => r.headers['idempotency-key']);
		expect(keys).toHaveLength(2);
		expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
		expect(keys[0]).not.toEqual(keys[1]);
		expect(result.items?.map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
	});

	test('a user-supplied Idempotency-Key expression makes a re-run create no second session', async () => {
		const parameters = {
			resource: 'session',
			operation: 'create',
			mode: 'bidirectional_translation',
			metadata: { entry: [{ key: 'crm_id', value: '={{ $json.crmId }}' }] },
			additionalOptions: { idempotencyKey: "={{ 'crm-' + $json.crmId }}" },
		};
		const input = [{ json: { crmId: 'C-7' } }];
		const first = await runKallglotNode({ parameters, input, credentials: credentials() } as never);
		const sessionsAfterFirst = sandbox.sessions.size;
		const second = await runKallglotNode({ parameters, input, credentials: credentials() } as never);
		expect(second.items?.[0].json.id).toEqual(first.items?.[0].json.id);
		expect(sandbox.sessions.size).toEqual(sessionsAfterFirst);
		expect(creates().map((r) => r.headers['idempotency-key'])).toEqual(['crm-C-7', 'crm-C-7']);
	});
});
