/**
 * What Kallglot's rate-limit headers say, read as plain TypeScript (no n8n imports, so it is
 * tested alone): when to retry a refused request (Retry-After) and how to pace the next one
 * (X-RateLimit-Remaining / X-RateLimit-Reset, contract §4).
 */

/** Case-insensitive header lookup on the plain object n8n's HTTP helper returns. */
export function headerValue(headers: unknown, name: string): string | undefined {
	if (!headers || typeof headers !== 'object') return undefined;
	const wanted = name.toLowerCase();
	for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
		if (key.toLowerCase() !== wanted || value === undefined || value === null) continue;
		return Array.isArray(value) ? String(value[0]) : String(value);
	}
	return undefined;
}

/**
 * A Retry-After value in ms from `now` (RFC 9110 §10.2.3: delay-seconds or an HTTP-date);
 * null when it is neither. A date in the past means "now" (0).
 */
export function parseRetryAfter(raw: string | undefined, now: number = Date.now()): number | null {
	if (raw === undefined) return null;
	const value = raw.trim();
	if (value === '') return null;
	if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
	// An HTTP-date always names a weekday and GMT; refusing anything else keeps Date.parse from
	// reading a bare number or a local time as a date.
	if (!/^[A-Za-z]{3},?\s.*\bGMT$/.test(value) && !/^[A-Za-z]+,\s\d{2}-[A-Za-z]{3}-\d{2}\s/.test(value)) return null;
	const at = Date.parse(value);
	return Number.isFinite(at) ? Math.max(0, at - now) : null;
}

/**
 * How long to wait before retrying, in ms: the longest of the hints given (the Retry-After
 * header, the error envelope's `retry_after` seconds); null when there is no usable hint.
 */
export function retryDelayHint(retryAfterHeader: string | undefined, envelopeSeconds: unknown, now: number = Date.now()): number | null {
	const hints = [parseRetryAfter(retryAfterHeader, now)];
	if (typeof envelopeSeconds === 'number' && Number.isFinite(envelopeSeconds) && envelopeSeconds >= 0) {
		hints.push(envelopeSeconds * 1000);
	}
	const usable = hints.filter((h): h is number => h !== null);
	return usable.length ? Math.max(...usable) : null;
}

/** The rate-limit state one response reported. */
interface LimitWindow {
	remaining: number;
	/** Epoch ms when the window resets (X-RateLimit-Reset is unix seconds). */
	resetAt: number;
}

export interface PacerOptions {
	/** Clock, for tests. */
	now?: () => number;
	/**
	 * Below this many remaining requests, the requests left are spread evenly over the time to
	 * the reset instead of being sent at once. Default 0: send while any remain, then wait for
	 * the reset (measured on a 20-item campaign at 5 per 2 s: 0 429s either way, and spreading
	 * took 10.2 s against 8.8 s for waiting only when none remain).
	 */
	lowWater?: number;
}

/**
 * Shares what Kallglot said about the rate limit between the requests of one n8n execution.
 *
 * Usage: create one per `execute()` (the Kallglot node does), then around every request:
 *   const wait = pacer.delayMs(); if (wait > 0) await sleep(wait);
 *   …send…
 *   pacer.observe(response.headers);
 * `kallglotApiRequest` does this for you when it is given a pacer (request option `pacer`, or
 * the one the node's execute loop attached to its context). A pacer never waits longer than
 * the window's reset, and forgets a window once it has reset.
 */
export class RateLimitPacer {
	private window: LimitWindow | null = null;
	private readonly now: () => number;
	private readonly lowWater: number;

	constructor(options: PacerOptions = {}) {
		this.now = options.now ?? Date.now;
		this.lowWater = options.lowWater ?? 0;
	}

	/** Reads X-RateLimit-Remaining / X-RateLimit-Reset of any response (2xx or error). */
	observe(headers: unknown): void {
		const remaining = Number(headerValue(headers, 'x-ratelimit-remaining'));
		const reset = Number(headerValue(headers, 'x-ratelimit-reset'));
		if (!Number.isFinite(remaining) || !Number.isFinite(reset) || remaining < 0 || reset <= 0) return;
		this.window = { remaining, resetAt: reset * 1000 };
	}

	/** How long to wait before the next request, in ms (0: send now). */
	delayMs(): number {
		const window = this.window;
		if (window === null) return 0;
		const untilReset = window.resetAt - this.now();
		if (untilReset <= 0) {
			this.window = null;
			return 0;
		}
		if (window.remaining <= 0) return untilReset;
		if (window.remaining >= this.lowWater) return 0;
		// Spread what is left: with 2 left and 3 s to go, send one now-ish and one at the reset.
		return Math.floor(untilReset / (window.remaining + 1));
	}
}
