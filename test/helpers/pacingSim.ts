/**
 * The pacer against the sandbox's own limiters on a simulated clock: no sockets, no timers, the
 * same steps every run. Each client sends its requests one after another (as the node's item loop
 * does); a request reaches the limiter half a round trip after it is sent and its answer comes
 * back half a round trip later; a 429 is retried after its Retry-After, then paced again, and an
 * item fails when the retry policy gives up on it (as the transport does: a named 429 wait apart
 * from the retries until the policy's rateLimitWaitMs, then maxRetries).
 */
import { RETRY, type RetryPolicy } from '../../nodes/shared/api/retry';
import { RateLimitPacer } from '../../nodes/shared/rateLimit';
import { createRateLimiter } from '../../sandbox/rate-limit';
import type { RateLimitModel } from '../../sandbox';

export interface SimulationOptions {
	model: RateLimitModel;
	limit: number;
	windowMs?: number;
	/** Requests per client. */
	requests: number;
	/** Clients (executions) sharing one key, started together. */
	clients?: number;
	/** Default: fast enough for one client to send twice the limit, at most 3 ms. */
	roundTripMs?: number;
	/** Simulated start time (epoch ms); its fraction of a second is the phase of the first window. */
	startAt?: number;
	/** Client i starts i × this many ms after the first. */
	staggerMs?: number;
	/** The transport's retry policy for each request (default: the action node's, RETRY.default). */
	policy?: RetryPolicy;
	/** One line per request, for debugging. */
	trace?: (line: string) => void;
}

export interface SimulationResult {
	/** Simulated ms from the first request to the last answer. */
	elapsedMs: number;
	/** elapsed ÷ the floor ((all requests − limit) ÷ limit windows). */
	ratioToIdeal: number;
	refused: number;
	/** The most attempts one request took (the transport gives up after 4: 3 retries). */
	maxAttempts: number;
	/** Requests the retry policy gave up on (an item failed). */
	failed: number;
	/** Requests each client sent successfully, in client order. */
	perClient: number[];
	/** Ms from each client's start to its first accepted request (a late-comer's wait to get in). */
	firstAcceptedMs: number[];
}

export function simulate(options: SimulationOptions): SimulationResult {
	const { model, limit, requests, clients = 1, startAt = 1_796_000_000_437, staggerMs = 0, policy = RETRY.default } = options;
	// Fast enough for the limit (as a quiet machine is): one client alone could send twice the limit.
	const roundTripMs = options.roundTripMs ?? Math.min(3, 500 / limit);
	const windowMs = options.windowMs ?? 1000;
	const limiter = createRateLimiter({ limit, windowMs, model });
	let now = startAt;
	const state = Array.from({ length: clients }, (_, i) => ({
		pacer: new RateLimitPacer({ now: () => now }),
		/** When this client next acts: asks its pacer, or waits out a 429's Retry-After. */
		readyAt: startAt + i * staggerMs,
		startedAt: startAt + i * staggerMs,
		firstAcceptedAt: null as number | null,
		done: 0,
		succeeded: 0,
		retryAt: null as number | null,
		attempts: 0,
		/** Of the current request: retries used, and ms waited for 429s apart from them. */
		retries: 0,
		rateLimitWaited: 0,
	}));
	let refused = 0;
	let failed = 0;
	let maxAttempts = 0;
	let lastAnswer = startAt;
	for (let steps = 0; state.some((c) => c.done < requests); steps++) {
		if (steps > 10_000_000) throw new Error('simulation did not finish');
		const client = state.filter((c) => c.done < requests).reduce((a, b) => (b.readyAt < a.readyAt ? b : a));
		now = client.readyAt;
		if (client.retryAt !== null && client.retryAt > now) {
			client.readyAt = client.retryAt;
			continue;
		}
		client.retryAt = null;
		const wait = client.pacer.delayMs();
		if (wait > 0) {
			client.readyAt = now + wait;
			continue;
		}
		const sentAt = now;
		client.attempts++;
		maxAttempts = Math.max(maxAttempts, client.attempts);
		const verdict = limiter.consume('key', sentAt + roundTripMs / 2);
		now = sentAt + roundTripMs;
		const headers = {
			'x-ratelimit-limit': String(verdict.limit),
			'x-ratelimit-remaining': String(verdict.remaining),
			'x-ratelimit-reset': String(verdict.resetAt),
			...(verdict.allowed ? {} : { 'retry-after': String(verdict.retryAfterSeconds) }),
		};
		client.pacer.observe(headers, sentAt, verdict.allowed ? 200 : 429);
		options.trace?.(`${(sentAt - startAt).toFixed(1)} c${state.indexOf(client)} R=${verdict.remaining} T=${verdict.resetAt * 1000 - startAt} ${verdict.allowed ? 'ok' : '429'}`);
		client.readyAt = now;
		lastAnswer = Math.max(lastAnswer, now);
		const next = () => {
			client.done++;
			client.attempts = 0;
			client.retries = 0;
			client.rateLimitWaited = 0;
		};
		if (verdict.allowed) {
			client.succeeded++;
			client.firstAcceptedAt ??= sentAt;
			next();
			continue;
		}
		refused++;
		const asked = verdict.retryAfterSeconds * 1000;
		const charged = Math.max(asked, policy.baseDelayMs);
		if (asked <= policy.maxDelayMs && client.rateLimitWaited + charged <= (policy.rateLimitWaitMs ?? -1)) {
			client.rateLimitWaited += charged;
		} else if (asked <= policy.maxDelayMs && client.retries < policy.maxRetries) {
			client.retries++;
		} else {
			failed++;
			next();
			continue;
		}
		client.retryAt = now + asked;
		client.readyAt = client.retryAt;
	}
	const elapsedMs = lastAnswer - startAt;
	// The floor: the first `limit` requests go at once (a fresh window, a full bucket), each
	// further `limit` take a window.
	const idealMs = ((requests * clients - limit) / limit) * windowMs;
	return { elapsedMs, ratioToIdeal: Math.round((elapsedMs / idealMs) * 1000) / 1000, refused, maxAttempts, failed, perClient: state.map((c) => c.succeeded), firstAcceptedMs: state.map((c) => (c.firstAcceptedAt ?? NaN) - c.startedAt) };
}
