import { Backoff, DEFAULT_BACKOFF, backoffDelay, baseDelay, normalizeBackoff } from '../../nodes/shared/stream/backoff';

const policy = normalizeBackoff({ initialDelayMs: 100, maxDelayMs: 1000, multiplier: 2, jitter: 0.3 });
const noJitter = { ...policy, jitter: 0 };

describe('backoff', () => {
	it('uses the documented defaults', () => {
		expect(normalizeBackoff()).toEqual({ initialDelayMs: 1000, maxDelayMs: 30000, multiplier: 2, jitter: 0.3 });
		expect(DEFAULT_BACKOFF).toEqual(normalizeBackoff());
	});

	it('grows exponentially from the initial delay and is capped at maxDelayMs', () => {
		expect([1, 2, 3, 4, 5, 6].map((n) => baseDelay(n, policy))).toEqual([100, 200, 400, 800, 1000, 1000]);
		expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, noJitter))).toEqual([100, 200, 400, 800, 1000]);
		expect(baseDelay(0, policy)).toBe(100); // attempts below 1 count as the first
		expect(baseDelay(10_000, policy)).toBe(1000); // no Infinity / NaN for huge attempt numbers
		expect(baseDelay(3, { ...policy, initialDelayMs: 0 })).toBe(0);
		expect(baseDelay(5, { ...policy, multiplier: 1 })).toBe(100);
	});

	it('spreads each delay over ±jitter and never leaves [0, maxDelayMs]', () => {
		expect(backoffDelay(2, policy, () => 0)).toBe(140); // 200 × 0.7
		expect(backoffDelay(2, policy, () => 0.5)).toBe(200);
		expect(backoffDelay(2, policy, () => 0.999999)).toBe(260); // 200 × 1.3
		expect(backoffDelay(6, policy, () => 0.999999)).toBe(1000); // capped even with upward jitter
		expect(backoffDelay(6, policy, () => 0)).toBe(700);
		expect(backoffDelay(1, policy, () => Number.NaN)).toBe(100); // broken random → middle
		expect(backoffDelay(1, policy, () => 5)).toBe(130); // clamped random
		for (let attempt = 1; attempt <= 12; attempt++) {
			const base = baseDelay(attempt, policy);
			const delays = Array.from({ length: 200 }, () => backoffDelay(attempt, policy));
			expect(Math.min(...delays)).toBeGreaterThanOrEqual(Math.floor(base * 0.7));
			expect(Math.max(...delays)).toBeLessThanOrEqual(Math.min(1000, Math.ceil(base * 1.3)));
		}
	});

	it('actually jitters (not a constant delay)', () => {
		const seen = new Set(Array.from({ length: 50 }, () => backoffDelay(3, policy)));
		expect(seen.size).toBeGreaterThan(5);
	});

	it('counts attempts and resets', () => {
		const b = new Backoff({ initialDelayMs: 10, maxDelayMs: 50, jitter: 0 });
		expect(b.attempts).toBe(0);
		expect([b.next(), b.next(), b.next(), b.next()]).toEqual([10, 20, 40, 50]);
		expect(b.attempts).toBe(4);
		b.reset();
		expect(b.attempts).toBe(0);
		expect(b.next()).toBe(10);
	});

	it('rejects nonsense policies', () => {
		expect(() => normalizeBackoff({ initialDelayMs: -1 })).toThrow(RangeError);
		expect(() => normalizeBackoff({ initialDelayMs: 100, maxDelayMs: 50 })).toThrow(RangeError);
		expect(() => normalizeBackoff({ multiplier: 0.5 })).toThrow(RangeError);
		expect(() => normalizeBackoff({ jitter: 1.5 })).toThrow(RangeError);
		expect(() => normalizeBackoff({ jitter: Number.NaN })).toThrow(RangeError);
	});
});
