/**
 * How each Kallglot call retries, in one table: every endpoint names its default here
 * (endpoints.ts), and a caller bounded by its own deadline (the live trigger's token fetch, the
 * webhook trigger inside Kallglot's 30 s) names its own. No n8n import.
 */

export interface RetryPolicy {
	maxRetries: number;
	baseDelayMs: number;
	/** A Retry-After longer than this fails now instead of holding the execution. */
	maxDelayMs: number;
	/**
	 * For a caller bounded by its own timeout (the trigger's token fetch): the most this call
	 * waits in all, paced waits and retry waits together. A retry wait that does not fit fails now
	 * (a 429 with its Retry-After in `context.retryAfterMs`); a paced wait that does not fit (or is
	 * over maxDelayMs) sends nothing and fails with the wait in `context.retryAfterMs` and
	 * `context.paced`, for the caller to wait out. Default: no bound, and a paced wait over
	 * maxDelayMs is not held (the request goes out).
	 */
	maxTotalDelayMs?: number;
	/**
	 * A 429 that names its wait (Retry-After, the envelope's retry_after, or X-RateLimit-Reset),
	 * within maxDelayMs, is waited out and retried without using up maxRetries, until this many ms
	 * of such waits in all for one request; past it, a 429 is an ordinary retry (so a key that stays
	 * limited still fails, with Kallglot's 429 message). Each wait counts at least baseDelayMs, so a
	 * Retry-After of 0 cannot loop for long. Absent: every 429 is an ordinary retry (the triggers,
	 * bound by their own deadlines).
	 */
	rateLimitWaitMs?: number;
	/** Statuses worth retrying (default RETRYABLE_STATUSES); a 409 only when it is idempotency_conflict. */
	retryOn?: ReadonlySet<number>;
}

export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([409, 429, 500, 502, 503, 504]);

// Two campaigns on one key can refuse each other's requests a window at a time: a 429 Kallglot
// asks to wait out must not fail an item while the key still gives, so 2 minutes of such waits
// per request before the 3 retries meant for errors begin to count.
const DEFAULT: RetryPolicy = { maxRetries: 3, baseDelayMs: 500, maxDelayMs: 60_000, rateLimitWaitMs: 120_000 };

export const RETRY = {
	/** An action node's call: a few retries, Retry-After waited up to a minute, 429s up to 2 minutes in all. */
	default: DEFAULT,
	// A 502 means the SIP dial failed: retrying would ring the person again, so only transient
	// statuses that cannot have placed a call are retried.
	dial: { ...DEFAULT, retryOn: new Set([409, 429, 503, 504]) },
	/**
	 * The live trigger's token fetch runs within the stream client's 10 s connect timeout: only short
	 * waits happen inside it (a paced wait or a Retry-After of up to 3 s each, at most 6 s in all); a
	 * longer one comes back to the listener, which waits it out between polls.
	 */
	triggerPoll: { maxRetries: 2, baseDelayMs: 500, maxDelayMs: 3000, maxTotalDelayMs: 6000 },
	/** The live trigger ends its session at close, within the listener's end timeout. */
	triggerEnd: { maxRetries: 1, baseDelayMs: 250, maxDelayMs: 1000 },
	/** Translate Audio ends its session after the upload, whatever happened. */
	cleanupEnd: { maxRetries: 2, baseDelayMs: 250, maxDelayMs: 2000 },
	/** The webhook trigger's session lookup, before n8n answers the delivery. */
	webhookLookup: { maxRetries: 1, baseDelayMs: 250, maxDelayMs: 2_000 },
	/** The webhook trigger's enrichment, within its budget. */
	webhookEnrich: { maxRetries: 2, baseDelayMs: 500, maxDelayMs: 5_000 },
} as const satisfies Record<string, RetryPolicy>;

export type RetryPolicyName = keyof typeof RETRY;

/** The wait before retry number `attempt` (0-based): exponential, ±20 % jitter, capped. */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
	const exp = policy.baseDelayMs * 2 ** attempt;
	return Math.min(policy.maxDelayMs, exp * (0.8 + random() * 0.4));
}
