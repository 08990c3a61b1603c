import type { INode, INodeProperties } from 'n8n-workflow';
import { z } from 'zod';

import { KallglotSandbox } from '../../sandbox';
import { validateParameters } from '../../nodes/shared/fields/validation';
import { runKallglotNode } from '../helpers/engine';

let sandbox: KallglotSandbox;
beforeAll(async () => {
	sandbox = await KallglotSandbox.start();
});
afterAll(async () => {
	await sandbox.close();
});
beforeEach(() => sandbox.clearRequests());

const run = (parameters: Record<string, unknown>) =>
	runKallglotNode({
		parameters: { resource: 'session', operation: 'create', mode: 'bidirectional_translation', ...parameters } as never,
		credentials: { apiKey: sandbox.apiKey, baseUrl: sandbox.baseUrl },
	});

/** Each case: parameters, then what the error message must name (field and value). */
const cases: Array<[string, Record<string, unknown>, RegExp]> = [
	['a phone number that is not E.164', { routing: 'phoneNumber', phoneNumber: '415 555 1234' }, /Phone Number "415 555 1234".*E\.164/],
	['a phone number expression that resolves to nothing', { routing: 'phoneNumber', phoneNumber: '={{ $json.phone }}' }, /Phone Number \(empty\)/],
	['a connection id without pcon_', { routing: 'connection', connectionId: 'twilio-main' }, /Provider Connection ID "twilio-main".*pcon_/],
	['a SIP URI without sip:', { routing: 'sip', sipFromUri: 'alice@example.com' }, /SIP From URI "alice@example.com".*sip:/],
	['a SIP header that is not X-', { routing: 'sip', sipHeaders: { header: [{ name: 'Customer', value: '1' }] } }, /SIP Headers.*X-/],
	['stability above 1', { voice: { stability: 1.5 } }, /Voice › Stability 1\.5.*between 0 and 1/],
	['similarity boost below 0', { voice: { similarityBoost: -0.1 } }, /Voice › Similarity Boost -0\.1/],
	['speed above 2', { voice: { speed: 3 } }, /Voice › Speed 3.*between 0\.5 and 2/],
	['a language that is not a code', { sourceLanguage: '={{ "Spanish" }}' }, /Source Language "Spanish".*language code/],
	['an agent on a translation mode', { additionalOptions: { additionalBodyFields: '{"ai_agent": {"agent_id": "agt_x1"}}' } }, /Additional Body Fields \(JSON\) › ai_agent .*only applies to the AI Agent and Help Chat Voice modes/],
	['ai_agent with an agent expression that resolves to nothing', { mode: 'ai_agent', agent: { __rl: true, mode: 'id', value: '={{ $json.agentId }}' } }, /Agent \(empty\).*required when the mode is AI Agent/],
	['an agent id without agt_', { mode: 'ai_agent', agent: { __rl: true, mode: 'id', value: '={{ "bob" }}' } }, /Agent "bob".*agt_/],
	['malformed metadata JSON', { additionalOptions: { metadataJson: '{"a": ' } }, /Metadata \(JSON\).*not valid JSON/],
	['metadata JSON that is an array', { additionalOptions: { metadataJson: '[1,2]' } }, /Metadata \(JSON\).*must be a JSON object/],
	['malformed additional body fields', { additionalOptions: { additionalBodyFields: 'mode=x' } }, /Additional Body Fields \(JSON\).*not valid JSON/],
	['a top-level provider in additional fields', { additionalOptions: { additionalBodyFields: '{"provider": "twilio"}' } }, /provider.*response-only/],
	['malformed agent overrides', { mode: 'ai_agent', agent: { __rl: true, mode: 'id', value: 'agt_x1' }, additionalOptions: { agentOverrides: '{oops}' } }, /Agent Overrides \(JSON\).*not valid JSON/],
];

describe('validation happens before any request', () => {
	test.each(cases)('%s', async (_name, parameters, message) => {
		const { error, items } = await run(parameters);
		expect(items).toBeUndefined();
		expect(error?.name).toBe('NodeOperationError');
		expect(error?.message).toMatch(message);
		expect(error?.description).toMatch(/Nothing was sent to Kallglot/);
		expect(error?.context?.itemIndex).toBe(0);
		expect(sandbox.requests).toHaveLength(0);
	});

	test('Dial: a bad number and a bad session id are refused before sending', async () => {
		const credentials = { apiKey: sandbox.apiKey, baseUrl: sandbox.baseUrl };
		const badNumber = await runKallglotNode({
			parameters: { resource: 'session', operation: 'dial', sessionId: 'sess_01ABC', to: '0044 20 7946 0000' },
			credentials,
		});
		expect(badNumber.error?.message).toMatch(/To "0044 20 7946 0000".*E\.164/);
		const badSession = await runKallglotNode({
			parameters: { resource: 'session', operation: 'get', sessionId: 'call-123' },
			credentials,
		});
		expect(badSession.error?.message).toMatch(/Session ID "call-123".*sess_/);
		expect(sandbox.requests).toHaveLength(0);
	});

	test('an insecure base URL is refused before a Kallglot key is sent', async () => {
		// A Kallglot key (sk_live_…); only sandbox keys may use plain http:// to other hosts (test/network).
		const apiKey = 'sk_live_validation_0001';
		const { error } = await runKallglotNode({
			parameters: { resource: 'session', operation: 'create', mode: 'bidirectional_translation' },
			credentials: { apiKey, baseUrl: 'http://api.example.com/v1' },
		});
		expect(error?.message).toMatch(/Base URL "http:\/\/api.example.com\/v1" is not allowed.*unencrypted/);
		expect(error?.message).not.toContain(apiKey);
	});
});

describe('field labels of a new operation come from its own parameters', () => {
	const node = { id: '1', name: 'Kallglot', type: 'n8n-nodes-kallglot.kallglot', typeVersion: 1, position: [0, 0], parameters: {} } as INode;
	const fields: INodeProperties[] = [{ displayName: 'Agent ID', name: 'agentId', type: 'string', default: '' }];
	const schema = z.object({ agentId: z.string().regex(/^agt_/, 'must start with agt_') });

	test('a parameter no label table names is named by its display name', () => {
		expect(() => validateParameters(schema, { agentId: 'x1' }, node, 0, fields)).toThrow('Invalid Agent ID "x1": must start with agt_');
	});

	test('without the fields, by its parameter name', () => {
		expect(() => validateParameters(schema, { agentId: 'x1' }, node, 0)).toThrow('Invalid agentId "x1": must start with agt_');
	});
});
