/**
 * The webhook trigger needs only what it uses: without the Kallglot API credential, no lookups and
 * items carry what the event holds; settings that need the API refuse to publish. A session
 * Kallglot answers 404 for is not an outage; a body nested too deep is refused.
 */
import { createHmac, randomUUID } from 'crypto';

import { KallglotSandbox } from '../../sandbox';
import { logLines, WebhookHarness, type HarnessOptions } from '../helpers/webhook';

const SECRET = 'whsec_optional_api_0123456789';
const WEBHOOK_CREDENTIAL = { signingSecret: SECRET, previousSigningSecret: '' };

let sandbox: KallglotSandbox;
let harness: WebhookHarness | undefined;

beforeAll(async () => {
	sandbox = await KallglotSandbox.start();
});
afterEach(async () => {
	await harness?.close();
	harness = undefined;
});
afterAll(async () => {
	await sandbox.close();
});

async function start(parameters: Record<string, unknown>, withApi: boolean): Promise<WebhookHarness> {
	const credentials: HarnessOptions['credentials'] = withApi
		? { kallglotWebhookApi: WEBHOOK_CREDENTIAL, kallglotApi: { apiKey: sandbox.apiKey, baseUrl: sandbox.baseUrl } }
		: { kallglotWebhookApi: WEBHOOK_CREDENTIAL };
	harness = await WebhookHarness.start({ parameters: { events: ['session.ended', 'transcript.ready', 'recording.ready'], ...parameters } as never, credentials });
	return harness;
}

const envelope = (type: string, data: unknown, id = `evt_${randomUUID().replace(/-/g, '')}`) =>
	JSON.stringify({ id, object: 'webhook_event', type, api_version: 'v1', created_at: new Date().toISOString(), data });
const deliver = (body: string) => {
	const t = Math.floor(Date.now() / 1000);
	return harness!.post(body, { 'kallglot-signature': `t=${t},v1=${createHmac('sha256', SECRET).update(`${t}.`).update(body).digest('hex')}` });
};
const items = () => harness!.executions.map((e) => e[0][0].json);

const SESSION = { id: 'sess_from_event', object: 'session', status: 'ended', mode: 'ai_agent', metadata: { crm_id: '7' } };

describe('without the Kallglot API credential', () => {
	test('no lookups: a session event carries its own metadata and mode, another event metadata: null', async () => {
		await start({}, false);
		sandbox.clearRequests();
		expect(await deliver(envelope('session.ended', SESSION))).toEqual({ status: 200, body: { received: true } });
		expect(await deliver(envelope('transcript.ready', { object: 'transcript', id: 'trn_1', session_id: 'sess_from_event' }))).toEqual({ status: 200, body: { received: true } });
		expect(items()).toEqual([
			expect.objectContaining({ event: 'session.ended', sessionId: 'sess_from_event', mode: 'ai_agent', metadata: { crm_id: '7' } }),
			expect.objectContaining({ event: 'transcript.ready', sessionId: 'sess_from_event', mode: null, metadata: null }),
		]);
		expect(items()[1].lookupError).toBeUndefined();
		expect(sandbox.requests).toEqual([]);
		await expect(harness!.activate()).resolves.toBeUndefined();
	});

	test.each([
		['a metadata filter', { filters: { metadata: { conditions: [{ key: 'campaign', value: 'x' }] } } }, 'the Metadata filter'],
		['Fetch Full Transcript', { options: { fetchTranscript: true } }, 'Fetch Full Transcript'],
		['Download Recording', { options: { downloadRecording: true } }, 'Download Recording'],
	])('%s is refused at publication, naming what to add; a delivery that slips through gets 503', async (_, parameters, named) => {
		await start(parameters, false);
		const refusal = harness!.activate();
		await expect(refusal).rejects.toThrow(`${named} calls the Kallglot API, but no Kallglot API credential is selected`);
		await expect(refusal).rejects.toMatchObject({ description: expect.stringContaining('Add a Kallglot API credential') });
		const answer = await deliver(envelope('session.ended', SESSION));
		expect(answer).toEqual({ status: 503, body: { error: { code: 'api_credential_missing', message: expect.stringContaining(named) } } });
		expect(harness!.executions).toHaveLength(0);
	});

	test('with the API credential the same settings publish', async () => {
		await start({ filters: { metadata: { conditions: [{ key: 'campaign', value: 'x' }] } }, options: { fetchTranscript: true } }, true);
		await expect(harness!.activate()).resolves.toBeUndefined();
	});
});

describe('a lookup answered 404', () => {
	const transcriptOfUnknownSession = () => envelope('transcript.ready', { object: 'transcript', id: 'trn_1', session_id: 'sess_unknown_404' });

	test('is not an outage: 200, the event runs with metadata: null and lookupError', async () => {
		await start({}, true);
		expect(await deliver(transcriptOfUnknownSession())).toEqual({ status: 200, body: { received: true } });
		expect(items()[0]).toMatchObject({ event: 'transcript.ready', sessionId: 'sess_unknown_404', metadata: null, mode: null, lookupError: { code: 'session_not_found', message: expect.any(String) } });
	});

	test('with a metadata filter: it cannot pass one, so it is skipped (200) and logged', async () => {
		await start({ filters: { metadata: { conditions: [{ key: 'campaign', value: 'x' }] } } }, true);
		logLines.length = 0;
		expect(await deliver(transcriptOfUnknownSession())).toEqual({ status: 200, body: { received: true, skipped: 'session not found' } });
		expect(harness!.executions).toHaveLength(0);
		expect(logLines.some((l) => l.includes('session not found, so it cannot match the metadata filter'))).toBe(true);
	});

	test('still 503 for a 429 (rate limited)', async () => {
		await start({}, true);
		sandbox.injectFault({ method: 'GET', path: '/v1/sessions/sess_rate_limited', status: 429, times: 10 });
		const answer = await deliver(envelope('transcript.ready', { object: 'transcript', id: 'trn_1', session_id: 'sess_rate_limited' }));
		expect(answer).toEqual({ status: 503, body: { error: { code: 'session_lookup_failed', message: expect.any(String) } } });
		sandbox.clearFaults();
	});
});

describe('a body nested too deep', () => {
	test('20,000 levels: 400 invalid_envelope, no execution; 64 levels in data still run', async () => {
		await start({}, false);
		const deep = `{"id":"evt_deep","type":"session.ended","data":{"id":"sess_deep","object":"session","x":${'['.repeat(20_000)}${']'.repeat(20_000)}}}`;
		expect(await deliver(deep)).toEqual({ status: 400, body: { error: { code: 'invalid_envelope', message: 'body nests deeper than 64 levels' } } });
		const nested = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
		// envelope (1) + data (2) + 62 = 64 levels
		const deepest = `{"id":"evt_64","type":"session.ended","data":{"id":"sess_deep","object":"session","x":${nested(62)}}}`;
		expect(await deliver(deepest)).toEqual({ status: 200, body: { received: true } });
		expect(harness!.executions).toHaveLength(1);
	});
});

describe('the enrichment time limit', () => {
	test('the editor’s default and maximum are the node’s budget constants', async () => {
		const { properties } = await import('../../nodes/KallglotWebhookTrigger/description');
		const { DEFAULT_ENRICHMENT_BUDGET_MS, MAX_ENRICHMENT_BUDGET_MS } = await import('../../nodes/KallglotWebhookTrigger/kallglotCalls');
		const option = (properties.find((p) => p.name === 'options')!.options as Array<{ name: string; default: unknown; typeOptions?: { maxValue?: number } }>).find((o) => o.name === 'enrichmentBudgetSeconds')!;
		expect([option.default, option.typeOptions?.maxValue]).toEqual([DEFAULT_ENRICHMENT_BUDGET_MS / 1000, MAX_ENRICHMENT_BUDGET_MS / 1000]);
	});
});
