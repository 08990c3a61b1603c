/**
 * Signed webhook delivery, as Kallglot does it, on a fast retry schedule.
 *
 * Every event is serialized ONCE (compact JSON, UTF-8); each attempt sends those exact bytes with
 * `Kallglot-Signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` computed at send
 * time. Delivery is at-least-once: a non-2xx answer, a timeout or a connection failure is retried
 * with the same `Kallglot-Webhook-Id` and a growing `Kallglot-Retry-Count`. Fault controls make
 * attempts wrong on purpose (bad signature, stale timestamp, tampered body, a duplicate delivery,
 * an answer treated as too slow) so a receiver's defences can be tested.
 *
 * Plain TypeScript over Node built-ins: no other sandbox module is needed to use it.
 */
import { createHmac, randomInt } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface WebhookEndpoint {
	/** http:// or https:// URL the events are POSTed to. */
	url: string;
	/** Signing secret (`v1=`). */
	secret: string;
	/** Extra secrets that each add a `v1=` value (a rotation in progress). */
	additionalSecrets?: string[];
	/** Event types to deliver; default every type. */
	events?: string[];
}

export interface WebhookDelivererOptions {
	/** Waits before attempt 2, 3, …; its length + 1 is the attempt count. Default: 8 attempts, 0.1 s doubling. */
	retryDelaysMs?: number[];
	/** An attempt without an answer within this time is a timeout; default 30000, as Kallglot's. */
	timeoutMs?: number;
	/** Called for every attempt (the CLI prints them). */
	log?: (line: string) => void;
}

/** The envelope Kallglot delivers. */
export interface WebhookEnvelope {
	id: string;
	object: 'webhook_event';
	type: string;
	api_version: 'v1';
	created_at: string;
	data: Record<string, unknown>;
}

export type DeliveryFault = 'bad_signature' | 'stale_timestamp' | 'tampered_body' | 'slow_endpoint' | 'duplicate';

/** One HTTP attempt, as `sandbox.webhookDeliveries` records it. */
export interface WebhookAttempt {
	eventId: string;
	type: string;
	/** `wh_del_…`: one per delivery chain (a duplicate delivery is a new chain). */
	webhookId: string;
	retryCount: number;
	/** HTTP status; 0 when none arrived (timeout, connection failure). */
	status: number;
	/** 'delivered' (2xx), 'failed' (non-2xx), 'timeout', 'error' (no connection). */
	outcome: 'delivered' | 'failed' | 'timeout' | 'error';
	/** The endpoint's answer time (or the wait until giving up). */
	ms: number;
	at: number;
	url: string;
	/** The Kallglot-Signature header sent. */
	signature: string;
	/** Set when an injected fault shaped this attempt. */
	fault?: DeliveryFault;
	/** Why it failed, for 'timeout' / 'error'. */
	error?: string;
}

/** Counted faults: each applies to that many upcoming attempts (or events, for `duplicate`). */
export interface WebhookFaults {
	/** Sign with a wrong secret. */
	badSignature?: number;
	/** Sign with a timestamp `staleBySeconds` in the past (default 600). */
	staleTimestamp?: number;
	staleBySeconds?: number;
	/** Sign the real body, send an altered one of the same length. */
	tamperedBody?: number;
	/** Treat the endpoint's answer as having come after the timeout: recorded `timeout`, retried. */
	slowEndpoint?: number;
	/** Deliver the event a second time (same body and event id, new webhook id) after the first. */
	duplicate?: number;
	/** Only events of these types are faulted; default any. */
	types?: string[];
}

/** 8 attempts like Kallglot's, on a schedule of seconds instead of ~41 hours. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [100, 200, 400, 800, 1600, 3200, 6400];
export const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_STALE_SECONDS = 600;
/** Response bodies are read and thrown away; no more than this is kept in memory. */
const MAX_RESPONSE_BYTES = 64 * 1024;

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const randomId = (prefix: string): string => {
	let out = prefix;
	for (let i = 0; i < 26; i++) out += ALNUM[randomInt(ALNUM.length)];
	return out;
};

/** The `v1` signature: hex(HMAC-SHA256(secret, "<t>.<raw body>")). */
export function webhookSignature(secret: string, timestamp: number, body: Buffer): string {
	return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/** The `Kallglot-Signature` header value for these secrets. */
export function signatureHeader(secrets: readonly string[], timestamp: number, body: Buffer): string {
	return [`t=${timestamp}`, ...secrets.map((s) => `v1=${webhookSignature(s, timestamp, body)}`)].join(',');
}

/** Same length, different bytes: flips the case of one letter inside `data` (or the last letter). */
function tamper(body: Buffer): Buffer {
	const copy = Buffer.from(body);
	const start = Math.max(0, copy.indexOf('"data"'));
	for (let i = copy.length - 1; i >= start; i--) {
		const c = copy[i];
		if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) {
			copy[i] = c ^ 0x20;
			return copy;
		}
	}
	copy[copy.length - 1] ^= 0x01;
	return copy;
}

interface PendingEvent {
	envelope: WebhookEnvelope;
	body: Buffer;
}

interface AttemptResult {
	status: number;
	outcome: WebhookAttempt['outcome'];
	error?: string;
}

export class WebhookDeliverer {
	/** Every attempt, in the order they finished. */
	readonly attempts: WebhookAttempt[] = [];
	/** Every event emitted while an endpoint was configured (delivered or not yet). */
	readonly events: WebhookEnvelope[] = [];
	private endpoint: WebhookEndpoint | null = null;
	private faults: WebhookFaults = {};
	private readonly retryDelaysMs: number[];
	private readonly timeoutMs: number;
	private readonly log: (line: string) => void;
	private readonly shutdown = new AbortController();
	private readonly chains = new Set<Promise<void>>();
	private readonly idleWaiters = new Set<() => void>();

	constructor(options: WebhookDelivererOptions = {}) {
		this.retryDelaysMs = [...(options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS)];
		this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
		this.log = options.log ?? ((): void => undefined);
		// Every attempt in flight and every retry wait listens for shutdown: many at once are normal.
		setMaxListeners(0, this.shutdown.signal);
	}

	/** Sets (or with null removes) the endpoint; later events go there. */
	configure(endpoint: WebhookEndpoint | null): void {
		if (endpoint !== null) {
			const url = new URL(endpoint.url);
			if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('webhook url must be http(s)');
			if (endpoint.secret === '') throw new Error('webhook secret must not be empty');
		}
		this.endpoint = endpoint === null ? null : { ...endpoint };
	}

	/** The endpoint without its secrets (for status output). */
	describe(): { url: string; events: string[] | null; secrets: number } | null {
		if (this.endpoint === null) return null;
		return {
			url: this.endpoint.url,
			events: this.endpoint.events ?? null,
			secrets: 1 + (this.endpoint.additionalSecrets?.length ?? 0),
		};
	}

	/** Replaces the fault counters; `{}` clears them. */
	setFaults(faults: WebhookFaults): void {
		this.faults = { ...faults };
	}

	/**
	 * Emits an event: delivered when an endpoint is configured and subscribes to `type`.
	 * Returns the envelope, or null when nothing will be sent.
	 */
	emit(type: string, data: Record<string, unknown>): WebhookEnvelope | null {
		const endpoint = this.endpoint;
		if (endpoint === null || this.shutdown.signal.aborted) return null;
		if (endpoint.events !== undefined && !endpoint.events.includes(type)) return null;
		const envelope: WebhookEnvelope = {
			id: randomId('evt_'),
			object: 'webhook_event',
			type,
			api_version: 'v1',
			created_at: new Date().toISOString(),
			data,
		};
		this.events.push(envelope);
		const event = { envelope, body: Buffer.from(JSON.stringify(envelope), 'utf8') };
		const duplicate = this.takeFault('duplicate', type);
		this.track(
			this.deliver(event, endpoint).then(async () => {
				if (duplicate) await this.deliver(event, endpoint, 'duplicate');
			}),
		);
		return envelope;
	}

	/** Resolves when no delivery is in flight or waiting for a retry. */
	idle(): Promise<void> {
		if (this.chains.size === 0) return Promise.resolve();
		return new Promise((resolve) => this.idleWaiters.add(resolve));
	}

	get pending(): number {
		return this.chains.size;
	}

	/** Aborts attempts in flight and pending retries; nothing is sent afterwards. */
	close(): Promise<void> {
		this.shutdown.abort();
		return this.idle();
	}

	private track(chain: Promise<void>): void {
		const tracked = chain
			.catch(() => undefined)
			.finally(() => {
				this.chains.delete(tracked);
				if (this.chains.size === 0) {
					for (const wake of [...this.idleWaiters]) {
						this.idleWaiters.delete(wake);
						wake();
					}
				}
			});
		this.chains.add(tracked);
	}

	private takeFault(kind: 'badSignature' | 'staleTimestamp' | 'tamperedBody' | 'slowEndpoint' | 'duplicate', type: string): boolean {
		const remaining = this.faults[kind] ?? 0;
		if (remaining <= 0) return false;
		if (this.faults.types !== undefined && !this.faults.types.includes(type)) return false;
		this.faults[kind] = remaining - 1;
		return true;
	}

	/** One delivery chain: attempts until a 2xx, the attempts run out, or the sandbox closes. */
	private async deliver(event: PendingEvent, endpoint: WebhookEndpoint, chainFault?: 'duplicate'): Promise<void> {
		const webhookId = randomId('wh_del_');
		const { type, id: eventId } = event.envelope;
		let originalTimestamp: number | null = null;
		for (let retryCount = 0; retryCount <= this.retryDelaysMs.length; retryCount++) {
			if (retryCount > 0 && !(await this.wait(this.retryDelaysMs[retryCount - 1]))) return;
			if (this.shutdown.signal.aborted) return;

			let fault: DeliveryFault | undefined = retryCount === 0 ? chainFault : undefined;
			let timestamp = Math.floor(Date.now() / 1000);
			originalTimestamp ??= timestamp;
			let secrets = [endpoint.secret, ...(endpoint.additionalSecrets ?? [])];
			let body = event.body;
			if (this.takeFault('badSignature', type)) {
				fault = 'bad_signature';
				secrets = secrets.map((s) => `${s}-wrong`);
			} else if (this.takeFault('staleTimestamp', type)) {
				fault = 'stale_timestamp';
				timestamp -= this.faults.staleBySeconds ?? DEFAULT_STALE_SECONDS;
			} else if (this.takeFault('tamperedBody', type)) {
				fault = 'tampered_body';
				body = tamper(event.body);
			}
			const slow = this.takeFault('slowEndpoint', type);
			if (slow) fault = 'slow_endpoint';

			const signature = signatureHeader(secrets, timestamp, event.body);
			const headers: Record<string, string> = {
				'Content-Type': 'application/json',
				'Content-Length': String(body.length),
				'User-Agent': 'Kallglot-Webhooks/1.0 (sandbox)',
				'Kallglot-Signature': signature,
				'Kallglot-Webhook-Id': webhookId,
				'Kallglot-Retry-Count': String(retryCount),
			};
			if (retryCount > 0) headers['Kallglot-Original-Timestamp'] = String(originalTimestamp);

			const started = Date.now();
			let result = await this.post(endpoint.url, headers, body);
			if (slow && result.outcome === 'delivered') {
				result = { status: result.status, outcome: 'timeout', error: `answered, but treated as later than ${this.timeoutMs} ms (fault)` };
			}
			const attempt: WebhookAttempt = {
				eventId,
				type,
				webhookId,
				retryCount,
				status: result.status,
				outcome: result.outcome,
				ms: Date.now() - started,
				at: started,
				url: endpoint.url,
				signature,
				...(fault !== undefined ? { fault } : {}),
				...(result.error !== undefined ? { error: result.error } : {}),
			};
			this.attempts.push(attempt);
			this.log(
				`webhook ${type} ${eventId} #${retryCount} → ${result.status === 0 ? result.outcome : result.status}` +
					`${fault !== undefined ? ` (${fault})` : ''} ${attempt.ms} ms`,
			);
			if (result.outcome === 'delivered') return;
		}
		this.log(`webhook ${type} ${eventId} failed permanently after ${this.retryDelaysMs.length + 1} attempts`);
	}

	/** False when the sandbox closed during the wait. */
	private wait(ms: number): Promise<boolean> {
		const signal = this.shutdown.signal;
		if (signal.aborted) return Promise.resolve(false);
		return new Promise((resolve) => {
			const timer = setTimeout(() => {
				signal.removeEventListener('abort', onAbort);
				resolve(true);
			}, ms);
			const onAbort = (): void => {
				clearTimeout(timer);
				resolve(false);
			};
			signal.addEventListener('abort', onAbort, { once: true });
		});
	}

	private post(url: string, headers: Record<string, string>, body: Buffer): Promise<AttemptResult> {
		return new Promise((resolve) => {
			let settled = false;
			const finish = (result: AttemptResult): void => {
				if (settled) return;
				settled = true;
				clearTimeout(timer);
				this.shutdown.signal.removeEventListener('abort', onAbort);
				resolve(result);
			};
			const target = new URL(url);
			const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
			// A fresh connection per attempt (agent: false): no pooled socket outlives the sandbox.
			const req = send(target, { method: 'POST', headers, agent: false }, (res: IncomingMessage) => {
				let kept = 0;
				res.on('data', (chunk: Buffer) => {
					kept += chunk.length;
					if (kept > MAX_RESPONSE_BYTES) res.destroy();
				});
				res.on('end', () => {
					const status = res.statusCode ?? 0;
					finish({ status, outcome: status >= 200 && status < 300 ? 'delivered' : 'failed' });
				});
				res.on('error', () => finish({ status: res.statusCode ?? 0, outcome: 'failed' }));
				res.on('close', () => {
					const status = res.statusCode ?? 0;
					finish({ status, outcome: res.complete && status >= 200 && status < 300 ? 'delivered' : 'failed' });
				});
			});
			const timer = setTimeout(() => {
				finish({ status: 0, outcome: 'timeout', error: `no answer within ${this.timeoutMs} ms` });
				req.destroy();
			}, this.timeoutMs);
			const onAbort = (): void => {
				finish({ status: 0, outcome: 'error', error: 'sandbox closed' });
				req.destroy();
			};
			this.shutdown.signal.addEventListener('abort', onAbort, { once: true });
			req.on('error', (error: NodeJS.ErrnoException) => finish({ status: 0, outcome: 'error', error: error.code ?? error.message }));
			req.end(body);
		});
	}
}
