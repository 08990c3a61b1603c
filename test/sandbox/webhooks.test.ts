/**
 * Signed webhook delivery: a local receiver verifies every signature against the raw bytes
 * it got, with its own HMAC code (independent of the sandbox's).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_RETRY_DELAYS_MS, DEFAULT_TIMEOUT_MS, KallglotSandbox, SANDBOX_AGENT_ID, type SandboxOptions } from '../../sandbox';
import { api, createSession, eventually } from './test-helpers';

const SECRET = 'whsec_test_sandbox_secret';
const WAIT_MS = 15_000;

interface Received {
	headers: IncomingHttpHeaders;
	raw: Buffer;
	/** Parsed Kallglot-Signature. */
	t: number;
	v1: string[];
	/** Signature valid for SECRET over these exact bytes. */
	valid: boolean;
	json: any;
}

/** What the receiver answers: a status (default 200) after an optional delay. */
type Answer = { status?: number; delayMs?: number };

function parseSignature(header: string | undefined): { t: number; v1: string[] } {
	const parts = (header ?? '').split(',').map((p) => p.split('='));
	return {
		t: Number(parts.find(([k]) => k === 't')?.[1]),
		v1: parts.filter(([k]) => k === 'v1').map(([, v]) => v),
	};
}

function signs(secret: string, t: number, raw: Buffer, v1: string): boolean {
	const expected = createHmac('sha256', secret).update(Buffer.concat([Buffer.from(`${t}.`), raw])).digest();
	const given = Buffer.from(v1, 'hex');
	return given.length === expected.length && timingSafeEqual(given, expected);
}

class Receiver {
	readonly received: Received[] = [];
	/** Answers for the next requests, in order; afterwards 200. */
	answers: Answer[] = [];
	private readonly timers = new Set<NodeJS.Timeout>();

	private constructor(readonly server: Server) {}

	static async start(): Promise<Receiver> {
		const server = createServer();
		const receiver = new Receiver(server);
		server.on('request', (req, res) => {
			const chunks: Buffer[] = [];
			req.on('data', (c: Buffer) => chunks.push(c));
			req.on('end', () => {
				const raw = Buffer.concat(chunks);
				const { t, v1 } = parseSignature(req.headers['kallglot-signature'] as string | undefined);
				let json: unknown = null;
				try {
					json = JSON.parse(raw.toString('utf8'));
				} catch {
					json = null;
				}
				receiver.received.push({ headers: req.headers, raw, t, v1, valid: v1.some((v) => signs(SECRET, t, raw, v)), json });
				const answer = receiver.answers.shift() ?? {};
				const respond = (): void => {
					res.writeHead(answer.status ?? 200, { 'content-type': 'text/plain' });
					res.end('ok');
				};
				if (answer.delayMs === undefined) respond();
				else {
					const timer = setTimeout(() => (receiver.timers.delete(timer), respond()), answer.delayMs);
					receiver.timers.add(timer);
				}
			});
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		return receiver;
	}

	get url(): string {
		return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/webhook`;
	}

	ofType(type: string): Received[] {
		return this.received.filter((r) => r.json?.type === type);
	}

	async close(): Promise<void> {
		for (const timer of this.timers) clearTimeout(timer);
		await new Promise<void>((resolve) => {
			this.server.close(() => resolve());
			this.server.closeAllConnections();
		});
	}
}

let sb: KallglotSandbox;
let receiver: Receiver;

async function start(options: SandboxOptions = {}): Promise<void> {
	receiver = await Receiver.start();
	sb = await KallglotSandbox.start({
		recordingProcessingMs: 50,
		analysisProcessingMs: 50,
		webhookRetryDelaysMs: [20, 40, 80],
		webhooks: { url: receiver.url, secret: SECRET },
		...options,
	});
}

afterEach(async () => {
	await sb?.close();
	await receiver?.close();
});

describe('lifecycle events', () => {
	beforeEach(() => start());

	it('delivers a recorded, analysed call from created to analysis.complete, each signed over the exact bytes', async () => {
		const { json: session } = await createSession(sb, {
			mode: 'ai_agent',
			ai_agent: { agent_id: SANDBOX_AGENT_ID },
			recording: { enabled: true },
			metadata: { campaign: 'spring-2027', contact_id: 'c_42' },
		});
		await sb.play(session.id, { intervalMs: 0, waitForListener: false, endWhenDone: true });
		const analysis = await api(sb, 'POST', `/sessions/${session.id}/analysis`, { body: {} });
		expect(analysis.status).toBe(202);
		await eventually(() => receiver.ofType('analysis.complete').length === 1 && receiver.ofType('recording.ready').length === 2, WAIT_MS, 'post-call events');
		await sb.webhooksIdle();

		const types = receiver.received.map((r) => r.json.type);
		expect([...types].sort()).toEqual(
			[
				'session.created',
				'session.started',
				...Array(8).fill('transcript.segment'),
				'session.ended',
				'transcript.ready',
				'recording.ready',
				'recording.ready',
				'analysis.complete',
			].sort(),
		);
		for (const r of receiver.received) {
			expect(r.valid).toBe(true);
			expect(r.headers['content-type']).toBe('application/json');
			expect(Number(r.headers['content-length'])).toBe(r.raw.length);
			expect(r.headers['kallglot-retry-count']).toBe('0');
			expect(r.headers['kallglot-original-timestamp']).toBeUndefined();
			expect(r.headers['kallglot-webhook-id']).toMatch(/^wh_del_[A-Z0-9]{26}$/);
			expect(Math.abs(r.t - Date.now() / 1000)).toBeLessThan(120);
			// Compact JSON, exactly Kallglot's envelope, no stream token anywhere.
			expect(r.raw.toString('utf8')).toBe(JSON.stringify(r.json));
			expect(Object.keys(r.json)).toEqual(['id', 'object', 'type', 'api_version', 'created_at', 'data']);
			expect(r.json).toMatchObject({ id: expect.stringMatching(/^evt_[A-Z0-9]{26}$/), object: 'webhook_event', api_version: 'v1' });
			expect(r.raw.toString('utf8')).not.toContain('kst_');
			expect(r.json.data.session_id ?? r.json.data.id).toBe(session.id);
		}
		expect(new Set(receiver.received.map((r) => r.json.id)).size).toBe(receiver.received.length);

		const ended = receiver.ofType('session.ended')[0].json.data;
		expect(ended).toMatchObject({
			id: session.id,
			object: 'session',
			status: 'ended',
			mode: 'ai_agent',
			metadata: { campaign: 'spring-2027', contact_id: 'c_42' },
			end_reason: 'call_completed',
			duration_seconds: expect.any(Number),
		});
		expect(ended.started_at).not.toBeNull();
		expect(ended.stream).toBeUndefined();
		expect(receiver.ofType('session.created')[0].json.data).toMatchObject({ status: 'created', metadata: { contact_id: 'c_42' } });
		expect(receiver.ofType('session.started')[0].json.data.status).toBe('active');

		const segments = receiver.ofType('transcript.segment').map((r) => r.json.data);
		expect(segments.map((s) => s.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
		expect(Object.keys(segments[0])).toEqual([
			'object',
			'session_id',
			'sequence',
			'speaker',
			'language',
			'text',
			'translation',
			'timestamp',
		]);
		// Non-ASCII text: the signature covers the UTF-8 bytes, not a re-serialization.
		expect(segments[2]).toMatchObject({ object: 'transcript_segment', speaker: 'customer', language: 'es', text: expect.stringContaining('Lucía') });
		expect(segments[2].translation).toEqual({ language: 'en', text: expect.any(String) });

		expect(receiver.ofType('transcript.ready')[0].json.data).toEqual({
			object: 'transcript',
			id: expect.stringMatching(/^trn_/),
			session_id: session.id,
			status: 'completed',
			total_turns: 8,
		});
		const recordings = receiver.ofType('recording.ready').map((r) => r.json.data);
		expect(recordings.map((r) => r.channel).sort()).toEqual(['agent', 'customer']);
		expect(recordings[0]).toMatchObject({ object: 'recording', status: 'ready', download_url: expect.stringMatching(/\/audio$/) });
		expect(receiver.ofType('analysis.complete')[0].json.data).toMatchObject({
			id: analysis.json.id,
			status: 'completed',
			summary: expect.any(String),
		});

		expect(sb.webhookDeliveries).toHaveLength(receiver.received.length);
		expect(sb.webhookDeliveries.every((d) => d.outcome === 'delivered' && d.status === 200 && d.retryCount === 0)).toBe(true);
	});

	it('session.started comes with the first stream connection too, once', async () => {
		const { json: session } = await createSession(sb);
		const ws = new (await import('ws')).WebSocket(`${session.stream.url}?token=${session.stream.token}`);
		await new Promise((resolve) => ws.once('open', resolve));
		await eventually(() => receiver.ofType('session.started').length === 1, WAIT_MS, 'session.started');
		await sb.play(session.id, { intervalMs: 0 });
		ws.close();
		await api(sb, 'POST', `/sessions/${session.id}/end`);
		await eventually(() => receiver.ofType('session.ended').length === 1, WAIT_MS, 'session.ended');
		await sb.webhooksIdle();
		expect(receiver.ofType('session.started')).toHaveLength(1);
		expect(receiver.ofType('session.ended')[0].json.data.end_reason).toBe('ended_by_api');
	});

	it('an idempotent replay of a create emits session.created once', async () => {
		const headers = { 'idempotency-key': 'same-create' };
		await api(sb, 'POST', '/sessions', { body: { mode: 'help_chat_voice' }, headers });
		await api(sb, 'POST', '/sessions', { body: { mode: 'help_chat_voice' }, headers });
		await sb.webhooksIdle();
		expect(receiver.ofType('session.created')).toHaveLength(1);
	});

	it('delivers only the subscribed event types', async () => {
		sb.configureWebhooks({ url: receiver.url, secret: SECRET, events: ['session.ended'] });
		const { json: session } = await createSession(sb);
		await sb.play(session.id, { intervalMs: 0, waitForListener: false, endWhenDone: true });
		await sb.webhooksIdle();
		expect(receiver.received.map((r) => r.json.type)).toEqual(['session.ended']);
	});

	it('sends nothing when no endpoint is configured', async () => {
		sb.configureWebhooks(null);
		const { json: session } = await createSession(sb);
		await api(sb, 'POST', `/sessions/${session.id}/end`);
		await sb.webhooksIdle();
		expect(receiver.received).toEqual([]);
		expect(sb.webhookDeliveries).toEqual([]);
	});
});

describe('at-least-once retries', () => {
	it('retries non-2xx answers with the same webhook id, body and original timestamp, counting retries', async () => {
		await start();
		receiver.answers = [{ status: 500 }, { status: 503 }, { status: 200 }];
		const envelope = sb.emitWebhook('session.ended', { id: 'sess_X', object: 'session', note: 'café ☕  spaced' });
		await sb.webhooksIdle();
		expect(receiver.received).toHaveLength(3);
		const [first, ...retries] = receiver.received;
		for (const [index, r] of receiver.received.entries()) {
			expect(r.valid).toBe(true);
			expect(r.raw.equals(first.raw)).toBe(true);
			expect(r.json.id).toBe(envelope?.id);
			expect(r.headers['kallglot-webhook-id']).toBe(first.headers['kallglot-webhook-id']);
			expect(r.headers['kallglot-retry-count']).toBe(String(index));
		}
		for (const r of retries) expect(r.headers['kallglot-original-timestamp']).toBe(String(first.t));
		expect(sb.webhookDeliveries.map((d) => [d.retryCount, d.status, d.outcome])).toEqual([
			[0, 500, 'failed'],
			[1, 503, 'failed'],
			[2, 200, 'delivered'],
		]);
		expect(sb.webhookDeliveries.every((d) => d.eventId === envelope?.id && d.type === 'session.ended' && d.ms >= 0)).toBe(true);
	});

	it('retries an answer that does not come within the timeout', async () => {
		await start({ webhookTimeoutMs: 1000 });
		receiver.answers = [{ delayMs: 20_000 }];
		sb.emitWebhook('session.created', { id: 'sess_X' });
		await sb.webhooksIdle();
		expect(sb.webhookDeliveries.map((d) => [d.retryCount, d.outcome])).toEqual([
			[0, 'timeout'],
			[1, 'delivered'],
		]);
		expect(sb.webhookDeliveries[0]).toMatchObject({ status: 0, error: expect.stringContaining('1000 ms') });
	});

	it('gives up after the last attempt when the endpoint cannot be reached', async () => {
		await start();
		const closedUrl = receiver.url;
		await receiver.close();
		sb.configureWebhooks({ url: closedUrl, secret: SECRET });
		sb.emitWebhook('session.created', { id: 'sess_X' });
		await sb.webhooksIdle();
		expect(sb.webhookDeliveries.map((d) => [d.retryCount, d.outcome, d.status])).toEqual([
			[0, 'error', 0],
			[1, 'error', 0],
			[2, 'error', 0],
			[3, 'error', 0],
		]);
		expect(sb.webhookDeliveries[0].error).toBe('ECONNREFUSED');
		receiver = await Receiver.start(); // afterEach closes it
	});

	it('defaults: 8 attempts (0.1 s doubling), 30 s to answer', () => {
		expect(DEFAULT_RETRY_DELAYS_MS).toEqual([100, 200, 400, 800, 1600, 3200, 6400]);
		expect(DEFAULT_TIMEOUT_MS).toBe(30_000);
	});

	it('close() stops pending retries at once', async () => {
		await start({ webhookRetryDelaysMs: [60_000] });
		receiver.answers = [{ status: 500 }];
		sb.emitWebhook('session.created', { id: 'sess_X' });
		await eventually(() => sb.webhookDeliveries.length === 1, WAIT_MS, 'first attempt');
		expect(sb.webhooks.pending).toBe(1);
		await sb.close();
		expect(sb.webhooks.pending).toBe(0);
		expect(receiver.received).toHaveLength(1);
	});
});

describe('fault controls', () => {
	beforeEach(() => start());

	it('badSignature signs one attempt with a wrong secret; the retry is signed correctly', async () => {
		sb.setWebhookFaults({ badSignature: 1 });
		receiver.answers = [{ status: 401 }];
		sb.emitWebhook('session.ended', { id: 'sess_X' });
		await sb.webhooksIdle();
		expect(receiver.received.map((r) => r.valid)).toEqual([false, true]);
		expect(sb.webhookDeliveries.map((d) => [d.fault, d.status])).toEqual([
			['bad_signature', 401],
			[undefined, 200],
		]);
	});

	it('staleTimestamp signs correctly with an old timestamp', async () => {
		sb.setWebhookFaults({ staleTimestamp: 1, staleBySeconds: 900 });
		sb.emitWebhook('session.ended', { id: 'sess_X' });
		await sb.webhooksIdle();
		const [r] = receiver.received;
		expect(r.valid).toBe(true);
		expect(Date.now() / 1000 - r.t).toBeGreaterThanOrEqual(899);
		expect(sb.webhookDeliveries[0].fault).toBe('stale_timestamp');
	});

	it('tamperedBody sends other bytes of the same length than were signed', async () => {
		sb.setWebhookFaults({ tamperedBody: 1 });
		receiver.answers = [{ status: 401 }];
		const envelope = sb.emitWebhook('transcript.segment', { object: 'transcript_segment', session_id: 'sess_X', text: 'Hola' });
		await sb.webhooksIdle();
		const [tampered, retry] = receiver.received;
		const original = Buffer.from(JSON.stringify(envelope));
		expect(tampered.raw.length).toBe(original.length);
		expect(tampered.raw.equals(original)).toBe(false);
		expect(tampered.valid).toBe(false);
		expect(tampered.v1.some((v) => signs(SECRET, tampered.t, original, v))).toBe(true);
		expect(retry.raw.equals(original)).toBe(true);
		expect(retry.valid).toBe(true);
	});

	it('duplicate delivers the same event twice as two deliveries', async () => {
		sb.setWebhookFaults({ duplicate: 1 });
		sb.emitWebhook('session.ended', { id: 'sess_X' });
		sb.emitWebhook('session.ended', { id: 'sess_Y' });
		await sb.webhooksIdle();
		expect(receiver.received).toHaveLength(3);
		const [a, b] = receiver.received.filter((r) => r.json.data.id === 'sess_X');
		expect(a.raw.equals(b.raw)).toBe(true);
		expect(a.headers['kallglot-webhook-id']).not.toBe(b.headers['kallglot-webhook-id']);
		expect([a.headers['kallglot-retry-count'], b.headers['kallglot-retry-count']]).toEqual(['0', '0']);
		expect(a.valid && b.valid).toBe(true);
		expect(sb.webhookDeliveries.filter((d) => d.fault === 'duplicate')).toHaveLength(1);
	});

	it('slowEndpoint records a delivered answer as a timeout, so the event comes again', async () => {
		sb.setWebhookFaults({ slowEndpoint: 1 });
		sb.emitWebhook('session.ended', { id: 'sess_X' });
		await sb.webhooksIdle();
		expect(receiver.received.map((r) => r.headers['kallglot-retry-count'])).toEqual(['0', '1']);
		expect(receiver.received[0].json.id).toBe(receiver.received[1].json.id);
		expect(sb.webhookDeliveries.map((d) => [d.outcome, d.fault])).toEqual([
			['timeout', 'slow_endpoint'],
			['delivered', undefined],
		]);
	});

	it('faults can be limited to event types and counted', async () => {
		sb.setWebhookFaults({ badSignature: 2, types: ['session.ended'] });
		receiver.answers = [];
		sb.emitWebhook('session.created', { id: 'sess_X' });
		await sb.webhooksIdle();
		sb.emitWebhook('session.ended', { id: 'sess_X' });
		await sb.webhooksIdle();
		expect(receiver.received.map((r) => [r.json.type, r.valid])).toEqual([
			['session.created', true],
			['session.ended', false],
		]);
		// A 200 to a badly signed attempt ends the chain: the second fault is left for the next event.
		sb.emitWebhook('session.ended', { id: 'sess_Y' });
		await sb.webhooksIdle();
		expect(receiver.received.map((r) => r.valid)).toEqual([true, false, false]);
	});

	it('signs with every secret of a rotation', async () => {
		sb.configureWebhooks({ url: receiver.url, secret: SECRET, additionalSecrets: ['whsec_next'] });
		sb.emitWebhook('session.created', { id: 'sess_X' });
		await sb.webhooksIdle();
		const [r] = receiver.received;
		expect(r.headers['kallglot-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
		expect(signs(SECRET, r.t, r.raw, r.v1[0])).toBe(true);
		expect(signs('whsec_next', r.t, r.raw, r.v1[1])).toBe(true);
	});
});

describe('control endpoints', () => {
	beforeEach(() => start({ webhooks: null }));

	const control = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> => {
		const res = await fetch(`${sb.controlUrl}${path}`, {
			method,
			headers: { 'content-type': 'application/json' },
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		return { status: res.status, json: await res.json() };
	};

	it('configure, send a custom event, read and clear the delivery log, set faults, turn off', async () => {
		expect((await control('GET', '/webhooks')).json.endpoint).toBeNull();
		expect((await control('POST', '/webhook-events', { type: 'session.created', data: {} })).status).toBe(409);

		const configured = await control('POST', '/webhooks', { url: receiver.url, secret: SECRET, events: ['x.future', 'session.ended'] });
		expect(configured.json.endpoint).toEqual({ url: receiver.url, events: ['x.future', 'session.ended'], secrets: 1 });
		expect(JSON.stringify(configured.json)).not.toContain(SECRET);

		expect((await control('POST', '/webhook-faults', { duplicate: 1 })).status).toBe(201);
		const sent = await control('POST', '/webhook-events', { type: 'x.future', data: { hello: 'world' } });
		expect(sent.status).toBe(202);
		expect(sent.json).toMatchObject({ id: expect.stringMatching(/^evt_/), type: 'x.future', data: { hello: 'world' } });
		await sb.webhooksIdle();
		expect(receiver.received.map((r) => r.json.id)).toEqual([sent.json.id, sent.json.id]);

		const log = await control('GET', '/webhook-deliveries');
		expect(log.json).toHaveLength(2);
		expect(log.json[0]).toMatchObject({ eventId: sent.json.id, type: 'x.future', retryCount: 0, status: 200, outcome: 'delivered' });
		expect((await control('DELETE', '/webhook-deliveries')).json).toEqual({ cleared: 2 });
		expect(sb.webhookDeliveries).toHaveLength(0);

		expect((await control('DELETE', '/webhooks')).json.endpoint).toBeNull();
		expect((await control('POST', '/webhook-events', { type: 'session.ended', data: {} })).status).toBe(409);
	});

	it('DELETE /_sandbox/faults clears the webhook faults too', async () => {
		await control('POST', '/webhooks', { url: receiver.url, secret: SECRET });
		await control('POST', '/webhook-faults', { badSignature: 5 });
		await control('DELETE', '/faults');
		sb.emitWebhook('session.created', { id: 'sess_X' });
		await sb.webhooksIdle();
		expect(receiver.received.map((r) => r.valid)).toEqual([true]);
	});

	it.each([
		['/webhooks', { url: 'ftp://x', secret: 's' }],
		['/webhooks', { url: 'http://127.0.0.1:1/x' }],
		['/webhooks', { url: 'http://127.0.0.1:1/x', secret: 's', events: 'session.ended' }],
		['/webhook-faults', { badSignature: -1 }],
		['/webhook-faults', { types: [1] }],
		['/webhook-events', { type: 'x' }],
	])('POST %s %j → 400', async (path, body) => {
		const res = await control('POST', path, body);
		expect(res.status).toBe(400);
		expect(res.json.error).toEqual(expect.any(String));
	});
});
