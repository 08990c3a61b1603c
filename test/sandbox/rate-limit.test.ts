/** The sandbox's two rate-limit models, step by step on given times or an injected clock (no sockets). */
import { createRateLimiter } from '../../sandbox/rate-limit';

const T0 = 1_796_000_000_400; // 0.4 s into a second

describe('fixed window (starts with its first request)', () => {
	test('limit requests, then 429 until the window ends; the reset is reported in whole seconds, rounded up', () => {
		const limiter = createRateLimiter({ limit: 2, windowMs: 1000 });
		expect(limiter.consume('k', T0)).toEqual({ allowed: true, limit: 2, remaining: 1, resetAt: 1_796_000_002, retryAfterSeconds: 1 });
		expect(limiter.consume('k', T0 + 10)).toMatchObject({ allowed: true, remaining: 0, resetAt: 1_796_000_002 });
		expect(limiter.consume('k', T0 + 999)).toMatchObject({ allowed: false, remaining: 0, retryAfterSeconds: 1 });
		// The window really ends at T0 + 1000, before the reported 1_796_000_002.
		expect(limiter.consume('k', T0 + 1000)).toMatchObject({ allowed: true, remaining: 1, resetAt: 1_796_000_003 });
	});

	test('keys are counted apart', () => {
		const limiter = createRateLimiter({ limit: 1, windowMs: 1000 });
		expect(limiter.consume('a', T0).allowed).toBe(true);
		expect(limiter.consume('b', T0).allowed).toBe(true);
		expect(limiter.consume('a', T0 + 1).allowed).toBe(false);
	});
});

describe('token bucket (limit tokens, refilled at limit per window)', () => {
	test('a full bucket allows a burst of limit; then one token comes back every window ÷ limit', () => {
		const limiter = createRateLimiter({ limit: 5, windowMs: 1000, model: 'token-bucket' });
		for (let i = 4; i >= 0; i--) expect(limiter.consume('k', T0)).toMatchObject({ allowed: true, remaining: i });
		// Reset = when the bucket is full again: 5 tokens at 5/s = 1 s, rounded up to whole seconds.
		expect(limiter.peek('k', T0)).toMatchObject({ remaining: 0, resetAt: 1_796_000_002 });
		expect(limiter.consume('k', T0 + 199)).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
		expect(limiter.consume('k', T0 + 200)).toMatchObject({ allowed: true, remaining: 0 });
		expect(limiter.consume('k', T0 + 400)).toMatchObject({ allowed: true, remaining: 0 });
		// 1 s idle: full again, never more than the limit.
		expect(limiter.consume('k', T0 + 5000)).toMatchObject({ allowed: true, remaining: 4 });
	});
});

describe('the limiter’s clock (RateLimitOptions.now)', () => {
	test.each(['fixed-window', 'token-bucket'] as const)('%s: without a time, consume and peek read the injected now, never Date.now', (model) => {
		let now = T0;
		const limiter = createRateLimiter({ limit: 1, windowMs: 1000, model, now: () => now });
		expect(limiter.now()).toBe(T0);
		expect(limiter.consume('k')).toMatchObject({ allowed: true, remaining: 0, resetAt: 1_796_000_002 });
		now = T0 + 999;
		expect(limiter.consume('k')).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
		now = T0 + 1000;
		expect(limiter.peek('k')).toMatchObject({ allowed: true });
		expect(limiter.consume('k')).toMatchObject({ allowed: true, remaining: 0 });
	});
});
