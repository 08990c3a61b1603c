/** Fixed-window rate limiter per API key, producing the X-RateLimit-* values (contract §4). */
import type { RateLimitOptions } from './types';

export interface RateLimitVerdict {
	allowed: boolean;
	limit: number;
	remaining: number;
	/** Unix seconds when the window resets (X-RateLimit-Reset). */
	resetAt: number;
	/** Only meaningful when not allowed. */
	retryAfterSeconds: number;
}

/** Headers are sent even when no limit is configured; these nominal values are never enforced. */
const NOMINAL_LIMIT = 1000;
const NOMINAL_WINDOW_MS = 60_000;

export class FixedWindowRateLimiter {
	private readonly windows = new Map<string, { startedAt: number; count: number }>();

	constructor(private readonly options: RateLimitOptions | null) {}

	/** How a 429's Retry-After is written (RestApi reads it). */
	get retryAfterFormat(): 'seconds' | 'http-date' {
		return this.options?.retryAfterFormat ?? 'seconds';
	}

	/** Counts one request for `key` and says whether it may proceed. */
	consume(key: string, now: number = Date.now()): RateLimitVerdict {
		if (this.options === null) {
			return {
				allowed: true,
				limit: NOMINAL_LIMIT,
				remaining: NOMINAL_LIMIT,
				resetAt: Math.ceil((now + NOMINAL_WINDOW_MS) / 1000),
				retryAfterSeconds: 0,
			};
		}
		const { limit, windowMs, retryAfterSeconds } = this.options;
		let window = this.windows.get(key);
		if (window === undefined || now >= window.startedAt + windowMs) {
			window = { startedAt: now, count: 0 };
			this.windows.set(key, window);
		}
		window.count++;
		const resetMs = window.startedAt + windowMs;
		return {
			allowed: window.count <= limit,
			limit,
			remaining: Math.max(0, limit - window.count),
			resetAt: Math.ceil(resetMs / 1000),
			retryAfterSeconds: retryAfterSeconds ?? Math.max(1, Math.ceil((resetMs - now) / 1000)),
		};
	}

	/** Current values without counting a request (for responses that never reached the limiter). */
	peek(key: string, now: number = Date.now()): RateLimitVerdict {
		if (this.options === null) return this.consume(key, now);
		const window = this.windows.get(key);
		const { limit, windowMs } = this.options;
		if (window === undefined || now >= window.startedAt + windowMs) {
			return { allowed: true, limit, remaining: limit, resetAt: Math.ceil((now + windowMs) / 1000), retryAfterSeconds: 0 };
		}
		return {
			allowed: window.count < limit,
			limit,
			remaining: Math.max(0, limit - window.count),
			resetAt: Math.ceil((window.startedAt + windowMs) / 1000),
			retryAfterSeconds: 0,
		};
	}

	reset(): void {
		this.windows.clear();
	}
}
