/**
 * Rate limiters per API key, producing the X-RateLimit-* values: a fixed window
 * (the window starts with its first request) and a token bucket, chosen by `RateLimitOptions.model`.
 */
import type { RateLimitOptions } from './types';

export interface RateLimitVerdict {
	allowed: boolean;
	limit: number;
	remaining: number;
	/** Unix seconds, rounded up, when the window resets or the bucket is full again (X-RateLimit-Reset). */
	resetAt: number;
	/** Only meaningful when not allowed. */
	retryAfterSeconds: number;
}

export interface RateLimiter {
	/** How a 429's Retry-After is written (RestApi reads it). */
	readonly retryAfterFormat: 'seconds' | 'http-date';
	/** The limiter's time (RateLimitOptions.now), ms since the epoch: a 429's HTTP-date counts from it. */
	now(): number;
	/** Counts one request for `key` and says whether it may proceed. */
	consume(key: string, now?: number): RateLimitVerdict;
	/** Current values without counting a request (for responses that never reached the limiter). */
	peek(key: string, now?: number): RateLimitVerdict;
	reset(): void;
}

/** Headers are sent even when no limit is configured; these nominal values are never enforced. */
const NOMINAL_LIMIT = 1000;
const NOMINAL_WINDOW_MS = 60_000;

const unixSecondsUp = (ms: number) => Math.ceil(ms / 1000);

export function createRateLimiter(options: RateLimitOptions | null): RateLimiter {
	if (options === null) return new UnlimitedRateLimiter();
	return options.model === 'token-bucket' ? new TokenBucketRateLimiter(options) : new FixedWindowRateLimiter(options);
}

class UnlimitedRateLimiter implements RateLimiter {
	readonly retryAfterFormat = 'seconds' as const;

	now(): number {
		return Date.now();
	}

	consume(_key: string, now: number = this.now()): RateLimitVerdict {
		return { allowed: true, limit: NOMINAL_LIMIT, remaining: NOMINAL_LIMIT, resetAt: unixSecondsUp(now + NOMINAL_WINDOW_MS), retryAfterSeconds: 0 };
	}

	peek(key: string, now: number = this.now()): RateLimitVerdict {
		return this.consume(key, now);
	}

	reset(): void {}
}

export class FixedWindowRateLimiter implements RateLimiter {
	private readonly windows = new Map<string, { startedAt: number; count: number }>();

	constructor(private readonly options: RateLimitOptions) {}

	get retryAfterFormat(): 'seconds' | 'http-date' {
		return this.options.retryAfterFormat ?? 'seconds';
	}

	now(): number {
		return this.options.now?.() ?? Date.now();
	}

	consume(key: string, now: number = this.now()): RateLimitVerdict {
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
			resetAt: unixSecondsUp(resetMs),
			retryAfterSeconds: retryAfterSeconds ?? Math.max(1, Math.ceil((resetMs - now) / 1000)),
		};
	}

	peek(key: string, now: number = this.now()): RateLimitVerdict {
		const window = this.windows.get(key);
		const { limit, windowMs } = this.options;
		if (window === undefined || now >= window.startedAt + windowMs) {
			return { allowed: true, limit, remaining: limit, resetAt: unixSecondsUp(now + windowMs), retryAfterSeconds: 0 };
		}
		return {
			allowed: window.count < limit,
			limit,
			remaining: Math.max(0, limit - window.count),
			resetAt: unixSecondsUp(window.startedAt + windowMs),
			retryAfterSeconds: 0,
		};
	}

	reset(): void {
		this.windows.clear();
	}
}

/** `limit` tokens, refilled continuously at `limit` per `windowMs`; each request takes one. */
export class TokenBucketRateLimiter implements RateLimiter {
	private readonly buckets = new Map<string, { tokens: number; at: number }>();

	constructor(private readonly options: RateLimitOptions) {}

	get retryAfterFormat(): 'seconds' | 'http-date' {
		return this.options.retryAfterFormat ?? 'seconds';
	}

	now(): number {
		return this.options.now?.() ?? Date.now();
	}

	/** Tokens per ms. */
	private get rate(): number {
		return this.options.limit / this.options.windowMs;
	}

	private refilled(key: string, now: number): { tokens: number; at: number } {
		const bucket = this.buckets.get(key) ?? { tokens: this.options.limit, at: now };
		bucket.tokens = Math.min(this.options.limit, bucket.tokens + Math.max(0, now - bucket.at) * this.rate);
		bucket.at = now;
		this.buckets.set(key, bucket);
		return bucket;
	}

	private verdict(tokens: number, allowed: boolean, now: number): RateLimitVerdict {
		const { limit, retryAfterSeconds } = this.options;
		return {
			allowed,
			limit,
			remaining: Math.floor(tokens),
			resetAt: unixSecondsUp(now + (limit - tokens) / this.rate),
			retryAfterSeconds: retryAfterSeconds ?? Math.max(1, Math.ceil((1 - tokens) / this.rate / 1000)),
		};
	}

	consume(key: string, now: number = this.now()): RateLimitVerdict {
		const bucket = this.refilled(key, now);
		const allowed = bucket.tokens >= 1;
		if (allowed) bucket.tokens -= 1;
		return this.verdict(bucket.tokens, allowed, now);
	}

	peek(key: string, now: number = this.now()): RateLimitVerdict {
		const bucket = this.buckets.get(key);
		const tokens = bucket === undefined ? this.options.limit : Math.min(this.options.limit, bucket.tokens + (now - bucket.at) * this.rate);
		return this.verdict(tokens, tokens >= 1, now);
	}

	reset(): void {
		this.buckets.clear();
	}
}
