/**
 * At-least-once end to end, through n8n-core's WebhookContext and the harness's copy of n8n's
 * order for an onReceived webhook (hand over, save static data, answer): an event is acknowledged
 * only once its execution was handed over, and remembered only then; a failed hand-over is not
 * remembered, so the redelivery runs; a hand-over whose answer was lost runs once. With the Redis
 * memory (the machine's Redis), copies delivered at once to two processes start one execution.
 */
import { createHmac, randomUUID } from 'crypto';

import { KallglotSandbox } from '../../sandbox';
import { logLines, WebhookHarness, type Answer, type HarnessOptions } from '../helpers/webhook';

const SECRET = 'whsec_handover_test_0123456789';
const REDIS = { host: process.env.E2E_REDIS_HOST ?? '127.0.0.1', port: Number(process.env.E2E_REDIS_PORT ?? 6379), database: 0, password: '' };
const SEEN = 'node:Kallglot Webhook Trigger';

let sandbox: KallglotSandbox;
const harnesses: WebhookHarness[] = [];

beforeAll(async () => {
	sandbox = await KallglotSandbox.start();
});
afterEach(async () => {
	for (const h of harnesses.splice(0)) await h.close();
});
afterAll(async () => {
	await sandbox.close();
});

async function start(options: Partial<HarnessOptions> = {}, parameters: Record<string, unknown> = {}): Promise<WebhookHarness> {
	const harness = await WebhookHarness.start({
		parameters: { events: ['session.ended'], ...parameters } as never,
		credentials: { kallglotWebhookApi: { signingSecret: SECRET, previousSigningSecret: '' }, kallglotApi: { apiKey: sandbox.apiKey, baseUrl: sandbox.baseUrl } },
		...options,
	});
	harnesses.push(harness);
	return harness;
}

const envelope = (id = `evt_${randomUUID().replace(/-/g, '')}`) =>
	JSON.stringify({ id, object: 'webhook_event', type: 'session.ended', api_version: 'v1', created_at: new Date().toISOString(), data: { id: 'sess_handover', object: 'session', status: 'ended', mode: 'ai_agent', metadata: { crm: 'x' } } });

const signed = (body: string) => {
	const t = Math.floor(Date.now() / 1000);
	return { 'kallglot-signature': `t=${t},v1=${createHmac('sha256', SECRET).update(`${t}.`).update(body).digest('hex')}` };
};
const deliver = (harness: WebhookHarness, body: string) => harness.post(body, signed(body));

/** Delivers until the memory says handed over (a copy in flight is answered 409 meanwhile). */
async function untilDuplicate(harness: WebhookHarness, body: string): Promise<Answer> {
	for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
		const answer = await deliver(harness, body);
		if (answer.status !== 409) return answer;
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
	throw new Error('still in progress after 20 s');
}

describe('hand-over order', () => {
	test('enqueue, then acknowledge, then remember: a copy during the hand-over is asked to retry, after it is a duplicate', async () => {
		let duringHandOver: { copy: Answer; saved: unknown } | undefined;
		const body = envelope('evt_order');
		const harness: WebhookHarness = await start({
			enqueue: async () => {
				duringHandOver = { copy: await harness.postWithoutWaiting(body, signed(body)), saved: (harness.savedStaticData[SEEN] as { seenEvents?: unknown } | undefined)?.seenEvents };
			},
		});
		expect(await deliver(harness, body)).toEqual({ status: 200, body: { received: true } });
		// While n8n was taking the execution: not acknowledged, not remembered, not saved.
		expect(duringHandOver).toEqual({ copy: { status: 409, body: { error: { code: 'event_in_progress', message: expect.any(String) } } }, saved: undefined });
		expect(harness.steps.slice(-3)).toEqual(['enqueued', 'saved', 'answered 200']);
		expect(harness.savedStaticData[SEEN]).toEqual({ seenEvents: { v: 1, ids: { evt_order: expect.any(Number) } } });
		expect(await untilDuplicate(harness, body)).toEqual({ status: 200, body: { received: true, duplicate: true } });
		expect(harness.executions).toHaveLength(1);
	});

	test('a failed hand-over (n8n answers 500) is not remembered: the redelivery runs, once', async () => {
		let failures = 1;
		const harness = await start({
			enqueue: async () => {
				if (failures-- > 0) throw new Error('database closed');
			},
		});
		const body = envelope('evt_failed_handover');
		logLines.length = 0;
		expect((await deliver(harness, body)).status).toBe(500);
		expect(harness.executions).toHaveLength(0);
		expect(harness.savedStaticData[SEEN]).toBeUndefined();
		expect(await untilDuplicate(harness, body)).toEqual({ status: 200, body: { received: true } });
		expect(harness.executions).toHaveLength(1);
		expect(await untilDuplicate(harness, body)).toEqual({ status: 200, body: { received: true, duplicate: true } });
		expect(harness.executions).toHaveLength(1);
		expect(logLines.some((l) => l.includes('n8n did not take the execution (answer 500)'))).toBe(true);
	});

	test('a hand-over whose answer was lost (the caller hung up) is remembered: the redelivery starts nothing', async () => {
		let entered!: () => void;
		const inHandOver = new Promise<void>((resolve) => (entered = resolve));
		let handOver!: () => void;
		const handedOver = new Promise<void>((resolve) => (handOver = resolve));
		const harness = await start({
			enqueue: async () => {
				entered();
				await handedOver;
			},
		});
		const body = envelope('evt_lost_answer');
		const caller = new AbortController();
		const lost = fetch(harness.url, { method: 'POST', headers: { 'content-type': 'application/json', ...signed(body) }, body, signal: caller.signal }).catch((e: Error) => e);
		await inHandOver;
		caller.abort();
		expect(await lost).not.toBeInstanceOf(Response);
		handOver();
		await harness.idle();
		expect(harness.executions).toHaveLength(1);
		expect(await untilDuplicate(harness, body)).toEqual({ status: 200, body: { received: true, duplicate: true } });
		expect(harness.executions).toHaveLength(1);
	});
});

describe('Redis event memory', () => {
	const workflowId = `wf-${randomUUID()}`;
	const parameters = { eventMemory: 'redis' };

	test('100 events delivered twice at once, one copy to each of two processes: 100 executions', async () => {
		const processes = [await start({ workflowId, credentials: { kallglotWebhookApi: { signingSecret: SECRET, previousSigningSecret: '' }, redis: REDIS } }, parameters)];
		processes.push(await start({ workflowId, credentials: { kallglotWebhookApi: { signingSecret: SECRET, previousSigningSecret: '' }, redis: REDIS } }, parameters));
		const bodies = Array.from({ length: 100 }, () => envelope());
		const answers = await Promise.all(bodies.flatMap((body) => processes.map((p) => deliver(p, body))));
		expect(processes[0].executions.length + processes[1].executions.length).toBe(100);
		expect(answers.filter((a) => a.status === 200 && a.body.duplicate === undefined)).toHaveLength(100);
		expect(answers.filter((a) => a.status === 409 || a.body.duplicate === true)).toHaveLength(100);
		const ids = [...processes[0].executions, ...processes[1].executions].map((e) => e[0][0].json.eventId);
		expect(new Set(ids).size).toBe(100);
		// No API credential was needed for session events; the static data holds nothing.
		expect(processes[0].savedStaticData[SEEN]).toBeUndefined();
	});

	test('after a restart of both processes, a redelivery is still a duplicate (the memory is in Redis)', async () => {
		const harness = await start({ workflowId, credentials: { kallglotWebhookApi: { signingSecret: SECRET, previousSigningSecret: '' }, redis: REDIS } }, parameters);
		const body = envelope();
		expect(await deliver(harness, body)).toEqual({ status: 200, body: { received: true } });
		harness.restart();
		expect(await untilDuplicate(harness, body)).toEqual({ status: 200, body: { received: true, duplicate: true } });
	});

	test('a Redis that cannot be reached: 503 event_memory_unavailable, nothing started (Kallglot retries)', async () => {
		const harness = await start({ workflowId, credentials: { kallglotWebhookApi: { signingSecret: SECRET, previousSigningSecret: '' }, redis: { ...REDIS, port: 1 } } }, parameters);
		const answer = await deliver(harness, envelope());
		expect(answer).toEqual({ status: 503, body: { error: { code: 'event_memory_unavailable', message: expect.any(String) } } });
		expect(harness.executions).toHaveLength(0);
	});
});
