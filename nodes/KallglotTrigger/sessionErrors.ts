/**
 * The Kallglot calls the listener makes, and their failures reduced to what it needs to decide
 * (the n8n adapter, sessionApi.ts, maps n8n's errors to these). No n8n imports.
 */
import type { SessionResponse } from '../shared/wire';

/** A failed Kallglot call, reduced to what the listener needs to decide. */
export class SessionApiError extends Error {
	constructor(
		message: string,
		readonly status: number | null,
		readonly description?: string,
		/** A 429's Retry-After (ms), when Kallglot sent one. */
		readonly retryAfterMs?: number,
	) {
		super(message);
	}
}

/**
 * Nothing was sent: what Kallglot said about the rate limit (X-RateLimit-Remaining 0 until
 * X-RateLimit-Reset, the rate-limit headers of every answer) asks to wait `retryAfterMs` before the next request.
 */
export class RateLimitWait extends SessionApiError {
	constructor(message: string, retryAfterMs: number) {
		super(message, null, undefined, retryAfterMs);
	}
}

export interface SessionApi {
	/** `signal` aborts the call (and its retries) when the listener closes. */
	create(signal?: AbortSignal): Promise<SessionResponse>;
	/**
	 * `poll`: a fetch of a stream token, whose long waits belong to the caller: a 429's Retry-After
	 * (a SessionApiError with status 429), or a rate-limit wait before sending (a RateLimitWait).
	 */
	get(sessionId: string, signal?: AbortSignal, poll?: boolean): Promise<SessionResponse>;
	end(sessionId: string): Promise<void>;
}
