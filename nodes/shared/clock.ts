/**
 * Time as a dependency. The stream client, the session listener and the execution queue read the
 * time and arm their timers through a Clock, so that tests drive reconnects, keepalive, backoff,
 * polls, batching and caps step by step on a fake clock (test/helpers/clock.ts) instead of
 * waiting. The n8n adapter passes `systemClock`. No n8n import.
 */

declare const timerBrand: unique symbol;
/** What setTimeout returned; only good for clearTimeout of the same clock. */
export type TimerHandle = { readonly [timerBrand]: true };

export interface Clock {
	/** Milliseconds since the epoch (Date.now()). */
	now(): number;
	/** Calls `callback` once, `ms` milliseconds from now. */
	setTimeout(callback: () => void, ms: number): TimerHandle;
	/** Idempotent; a handle that already fired is ignored. */
	clearTimeout(timer: TimerHandle): void;
}

/** Node's clock and timers: the one place production code touches the timer globals. */
export const systemClock: Clock = Object.freeze({
	now: () => Date.now(),
	setTimeout: (callback: () => void, ms: number) => setTimeout(callback, ms) as unknown as TimerHandle,
	clearTimeout: (timer: TimerHandle) => clearTimeout(timer as unknown as NodeJS.Timeout),
});

/** What withTimeout resolves with when the time ran out (or `signal` aborted the wait). */
export const TIMED_OUT: unique symbol = Symbol('timed out');

/**
 * `promise`'s value, or TIMED_OUT once `ms` have passed on `clock` (or `signal` aborted) without
 * it settling. A rejection passes through. The timer is cleared either way.
 */
export function withTimeout<T>(clock: Clock, promise: PromiseLike<T>, ms: number, signal?: AbortSignal): Promise<T | typeof TIMED_OUT> {
	if (signal?.aborted) return Promise.resolve(TIMED_OUT);
	let timer: TimerHandle | undefined;
	let onAbort: (() => void) | undefined;
	const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
		timer = clock.setTimeout(() => resolve(TIMED_OUT), ms);
		if (signal) {
			onAbort = () => resolve(TIMED_OUT);
			signal.addEventListener('abort', onAbort, { once: true });
		}
	});
	return Promise.race([promise, timeout]).finally(() => {
		if (timer !== undefined) clock.clearTimeout(timer);
		if (onAbort) signal?.removeEventListener('abort', onAbort);
	});
}

/** Resolves after `ms` on `clock`, or at once when `signal` aborts. */
export async function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
	await withTimeout(clock, new Promise<never>(() => undefined), ms, signal);
}

/**
 * The clock's time as an ISO string, formatted once per millisecond: a busy stream delivers many
 * events within one, and they share the string. One per consumer (no module state).
 */
export function isoTimes(clock: Clock): () => string {
	let lastMs = NaN;
	let lastIso = '';
	return () => {
		const ms = clock.now();
		if (ms !== lastMs) {
			lastIso = new Date(ms).toISOString();
			lastMs = ms;
		}
		return lastIso;
	};
}
