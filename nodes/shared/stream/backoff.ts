/**
 * Exponential backoff with symmetric jitter. Pure: randomness is injected.
 *
 * attempt n (1-based) waits base(n) = min(maxDelayMs, initialDelayMs × multiplier^(n-1)), then
 * jitter spreads it uniformly over base × [1 - jitter, 1 + jitter], clamped to [0, maxDelayMs].
 * With `firstDelayMs`, attempt 1 waits uniformly over [0, firstDelayMs] instead (a quick first
 * retry after a connection that was working) and attempt n ≥ 2 waits what attempt n-1 would.
 */

export interface BackoffPolicy {
	initialDelayMs: number;
	maxDelayMs: number;
	multiplier: number;
	/** ± fraction of the delay, 0..1. */
	jitter: number;
	/** When set: the longest wait before attempt 1 (uniform from 0); later attempts shift by one. */
	firstDelayMs?: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffPolicy> = Object.freeze({
	initialDelayMs: 1000,
	maxDelayMs: 30000,
	multiplier: 2,
	jitter: 0.3,
});

/** Fills defaults and rejects nonsense (negative delays, multiplier < 1, jitter outside 0..1). */
export function normalizeBackoff(policy: Partial<BackoffPolicy> = {}): BackoffPolicy {
	const p: BackoffPolicy = {
		initialDelayMs: policy.initialDelayMs ?? DEFAULT_BACKOFF.initialDelayMs,
		maxDelayMs: policy.maxDelayMs ?? DEFAULT_BACKOFF.maxDelayMs,
		multiplier: policy.multiplier ?? DEFAULT_BACKOFF.multiplier,
		jitter: policy.jitter ?? DEFAULT_BACKOFF.jitter,
	};
	if (!(Number.isFinite(p.initialDelayMs) && p.initialDelayMs >= 0)) throw new RangeError('initialDelayMs must be a number >= 0');
	if (!(Number.isFinite(p.maxDelayMs) && p.maxDelayMs >= p.initialDelayMs)) {
		throw new RangeError('maxDelayMs must be a number >= initialDelayMs');
	}
	if (!(Number.isFinite(p.multiplier) && p.multiplier >= 1)) throw new RangeError('multiplier must be a number >= 1');
	if (!(Number.isFinite(p.jitter) && p.jitter >= 0 && p.jitter <= 1)) throw new RangeError('jitter must be between 0 and 1');
	if (policy.firstDelayMs !== undefined) {
		if (!(Number.isFinite(policy.firstDelayMs) && policy.firstDelayMs >= 0)) throw new RangeError('firstDelayMs must be a number >= 0');
		p.firstDelayMs = Math.min(policy.firstDelayMs, p.maxDelayMs);
	}
	return p;
}

/** The un-jittered delay of attempt `attempt` (1-based; values below 1 count as 1). */
export function baseDelay(attempt: number, policy: BackoffPolicy): number {
	if (policy.initialDelayMs <= 0) return 0;
	const n = Math.max(1, Math.floor(attempt));
	const raw = policy.initialDelayMs * Math.pow(policy.multiplier, n - 1);
	return Number.isFinite(raw) ? Math.min(policy.maxDelayMs, raw) : policy.maxDelayMs;
}

/** The jittered delay in whole milliseconds. `random` returns a number in [0, 1). */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
	let r = random();
	if (!Number.isFinite(r)) r = 0.5;
	r = Math.min(1, Math.max(0, r));
	if (policy.firstDelayMs !== undefined) {
		if (Math.floor(attempt) <= 1) return Math.round(policy.firstDelayMs * r);
		return backoffDelay(attempt - 1, { ...policy, firstDelayMs: undefined }, () => r);
	}
	const base = baseDelay(attempt, policy);
	const jittered = base * (1 + policy.jitter * (2 * r - 1));
	return Math.round(Math.min(policy.maxDelayMs, Math.max(0, jittered)));
}

/** A counter of consecutive attempts with its delays. */
export class Backoff {
	private count = 0;
	readonly policy: BackoffPolicy;

	constructor(
		policy: Partial<BackoffPolicy> = {},
		private readonly random: () => number = Math.random,
	) {
		this.policy = normalizeBackoff(policy);
	}

	/** Attempts counted since the last reset. */
	get attempts(): number {
		return this.count;
	}

	/** Counts one more attempt and returns the delay to wait before it. */
	next(): number {
		this.count++;
		return backoffDelay(this.count, this.policy, this.random);
	}

	reset(): void {
		this.count = 0;
	}
}
