/**
 * Fault injection: REST faults (status / drop / delay, before or after processing) and stream
 * faults (drops, ignored pings, silence, refused handshakes, replays after a reconnect).
 */
import { isPlainObject } from './validation';
import type { JsonObject, RestFault, StreamFaults } from './types';
import type { WebhookEndpoint, WebhookFaults } from './webhooks';

interface PendingRestFault {
	fault: RestFault;
	remaining: number;
}

function pathMatches(pattern: string | RegExp | undefined, path: string): boolean {
	if (pattern === undefined) return true;
	if (pattern instanceof RegExp) {
		pattern.lastIndex = 0; // a /g or /y pattern would otherwise keep state between requests
		return pattern.test(path);
	}
	return path === pattern || path === `/v1${pattern}`;
}

/** Faults are consumed in the order they were injected; each matches `times` requests. */
export class RestFaultQueue {
	private pending: PendingRestFault[] = [];

	add(fault: RestFault): void {
		this.pending.push({ fault, remaining: fault.times ?? 1 });
	}

	/** Takes (consumes one use of) the first fault matching this request, if any. */
	take(method: string, path: string): RestFault | undefined {
		const match = this.pending.find(
			(p) =>
				(p.fault.method === undefined || p.fault.method.toUpperCase() === method.toUpperCase()) &&
				pathMatches(p.fault.path, path),
		);
		if (match === undefined) return undefined;
		match.remaining--;
		if (match.remaining <= 0) this.pending = this.pending.filter((p) => p !== match);
		return match.fault;
	}

	get size(): number {
		return this.pending.length;
	}

	clear(): void {
		this.pending = [];
	}
}

/** Mutable counters of one StreamFaults entry. */
interface ActiveStreamFaults {
	faults: StreamFaults;
	dropsRemaining: number;
	refusalsRemaining: number;
	replayPending: boolean;
}

/**
 * Stream faults per session id, or '*' for every session. A session's own entry replaces the
 * '*' entry entirely (no per-field merge: what a test sets is what applies).
 */
export class StreamFaultRegistry {
	private readonly entries = new Map<string, ActiveStreamFaults>();

	set(sessionId: string, faults: StreamFaults): void {
		this.entries.set(sessionId, {
			faults: { ...faults },
			dropsRemaining: faults.dropAfterFrames === undefined ? 0 : (faults.dropTimes ?? 1),
			refusalsRemaining: faults.refuseHandshakes?.count ?? 0,
			replayPending: (faults.replayOnReconnect ?? 0) > 0,
		});
	}

	private entryFor(sessionId: string): ActiveStreamFaults | undefined {
		return this.entries.get(sessionId) ?? this.entries.get('*');
	}

	/** Status to refuse this handshake with, consuming one refusal; undefined to accept. */
	takeHandshakeRefusal(sessionId: string): number | undefined {
		const entry = this.entryFor(sessionId);
		if (entry === undefined || entry.refusalsRemaining <= 0 || entry.faults.refuseHandshakes === undefined) return undefined;
		entry.refusalsRemaining--;
		return entry.faults.refuseHandshakes.status;
	}

	isSilent(sessionId: string): boolean {
		return this.entryFor(sessionId)?.faults.silent === true;
	}

	ignoresPings(sessionId: string): boolean {
		return this.entryFor(sessionId)?.faults.ignorePings === true;
	}

	/** True (consuming one drop) when a connection that has sent `framesSentOnConnection` must be cut. */
	takeDrop(sessionId: string, framesSentOnConnection: number): boolean {
		const entry = this.entryFor(sessionId);
		const threshold = entry?.faults.dropAfterFrames;
		if (entry === undefined || threshold === undefined || entry.dropsRemaining <= 0) return false;
		if (framesSentOnConnection < threshold) return false;
		entry.dropsRemaining--;
		return true;
	}

	/** How many already-sent script frames to re-send on this reconnection (one-shot). */
	takeReplayCount(sessionId: string): number {
		const entry = this.entryFor(sessionId);
		if (entry === undefined || !entry.replayPending) return 0;
		entry.replayPending = false;
		return entry.faults.replayOnReconnect ?? 0;
	}

	clear(): void {
		this.entries.clear();
	}
}

/** Thrown by the JSON parsers below; the control endpoint answers 400 with its message. */
export class FaultSpecError extends Error {}

function optionalNumber(obj: JsonObject, key: string): number | undefined {
	const value = obj[key];
	if (value === undefined || value === null) return undefined;
	if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new FaultSpecError(`${key} must be a non-negative number`);
	return value;
}

function optionalBool(obj: JsonObject, key: string): boolean | undefined {
	const value = obj[key];
	if (value === undefined || value === null) return undefined;
	if (typeof value !== 'boolean') throw new FaultSpecError(`${key} must be a boolean`);
	return value;
}

function optionalText(obj: JsonObject, key: string): string | undefined {
	const value = obj[key];
	if (value === undefined || value === null) return undefined;
	if (typeof value !== 'string') throw new FaultSpecError(`${key} must be a string`);
	return value;
}

/**
 * RestFault from JSON (POST /_sandbox/faults). JSON has no RegExp: `pathRegex` holds a regex
 * source, and a `path` starting with "^" is read as one too (real paths start with "/").
 */
export function parseRestFault(json: unknown): RestFault {
	if (!isPlainObject(json)) throw new FaultSpecError('fault must be a JSON object');
	const fault: RestFault = {};
	const method = optionalText(json, 'method');
	const path = optionalText(json, 'path');
	const pathRegex = optionalText(json, 'pathRegex');
	const when = optionalText(json, 'when');
	const code = optionalText(json, 'code');
	const times = optionalNumber(json, 'times');
	const status = optionalNumber(json, 'status');
	const retryAfter = optionalNumber(json, 'retryAfter');
	const retryAfterHeader = optionalText(json, 'retryAfterHeader');
	const delayMs = optionalNumber(json, 'delayMs');
	const drop = optionalBool(json, 'drop');
	if (when !== undefined && when !== 'before' && when !== 'after') throw new FaultSpecError('when must be "before" or "after"');
	if (status !== undefined && (!Number.isInteger(status) || status < 100 || status > 599)) {
		throw new FaultSpecError('status must be an HTTP status code');
	}
	try {
		if (pathRegex !== undefined) fault.path = new RegExp(pathRegex);
		else if (path !== undefined) fault.path = path.startsWith('^') ? new RegExp(path) : path;
	} catch {
		throw new FaultSpecError('path/pathRegex is not a valid regular expression');
	}
	if (method !== undefined) fault.method = method;
	if (times !== undefined) fault.times = times;
	if (status !== undefined) fault.status = status;
	if (code !== undefined) fault.code = code;
	if (retryAfter !== undefined) fault.retryAfter = retryAfter;
	if (retryAfterHeader !== undefined) fault.retryAfterHeader = retryAfterHeader;
	if (drop !== undefined) fault.drop = drop;
	if (delayMs !== undefined) fault.delayMs = delayMs;
	if (when !== undefined) fault.when = when;
	return fault;
}

/** StreamFaults from JSON (POST /_sandbox/stream-faults, minus its sessionId). */
export function parseStreamFaults(json: JsonObject): StreamFaults {
	const faults: StreamFaults = {};
	const dropAfterFrames = optionalNumber(json, 'dropAfterFrames');
	const dropTimes = optionalNumber(json, 'dropTimes');
	const replayOnReconnect = optionalNumber(json, 'replayOnReconnect');
	const ignorePings = optionalBool(json, 'ignorePings');
	const silent = optionalBool(json, 'silent');
	const refuse = json.refuseHandshakes;
	if (dropAfterFrames !== undefined) faults.dropAfterFrames = dropAfterFrames;
	if (dropTimes !== undefined) faults.dropTimes = dropTimes;
	if (replayOnReconnect !== undefined) faults.replayOnReconnect = replayOnReconnect;
	if (ignorePings !== undefined) faults.ignorePings = ignorePings;
	if (silent !== undefined) faults.silent = silent;
	if (refuse !== undefined && refuse !== null) {
		if (!isPlainObject(refuse)) throw new FaultSpecError('refuseHandshakes must be {count, status}');
		const count = optionalNumber(refuse, 'count');
		const status = optionalNumber(refuse, 'status');
		if (count === undefined || status === undefined || status < 400 || status > 599) {
			throw new FaultSpecError('refuseHandshakes must be {count, status} with a 4xx/5xx status');
		}
		faults.refuseHandshakes = { count, status };
	}
	return faults;
}

function optionalTextList(obj: JsonObject, key: string): string[] | undefined {
	const value = obj[key];
	if (value === undefined || value === null) return undefined;
	if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v !== '')) {
		throw new FaultSpecError(`${key} must be an array of non-empty strings`);
	}
	return value as string[];
}

/** WebhookEndpoint from JSON (POST /_sandbox/webhooks): {url, secret, events?, additionalSecrets?}. */
export function parseWebhookEndpoint(json: unknown): WebhookEndpoint {
	if (!isPlainObject(json)) throw new FaultSpecError('body must be {url, secret, events?, additionalSecrets?}');
	const url = optionalText(json, 'url');
	const secret = optionalText(json, 'secret');
	if (url === undefined || !/^https?:\/\/./.test(url)) throw new FaultSpecError('url must be an http(s) URL');
	if (secret === undefined || secret === '') throw new FaultSpecError('secret must be a non-empty string');
	const events = optionalTextList(json, 'events');
	const additionalSecrets = optionalTextList(json, 'additionalSecrets');
	return {
		url,
		secret,
		...(events !== undefined ? { events } : {}),
		...(additionalSecrets !== undefined ? { additionalSecrets } : {}),
	};
}

/** WebhookFaults from JSON (POST /_sandbox/webhook-faults). */
export function parseWebhookFaults(json: unknown): WebhookFaults {
	if (!isPlainObject(json)) throw new FaultSpecError('webhook faults must be a JSON object');
	const faults: WebhookFaults = {};
	for (const key of ['badSignature', 'staleTimestamp', 'staleBySeconds', 'tamperedBody', 'slowEndpoint', 'duplicate'] as const) {
		const value = optionalNumber(json, key);
		if (value !== undefined) faults[key] = value;
	}
	const types = optionalTextList(json, 'types');
	if (types !== undefined) faults.types = types;
	return faults;
}
