/**
 * What Kallglot's rate-limit headers say, read as plain TypeScript (no n8n imports, so it is
 * tested alone): when to retry a refused request (Retry-After) and how to pace the next one
 * (X-RateLimit-Limit / X-RateLimit-Remaining / X-RateLimit-Reset, Kallglot's rate-limit headers).
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

/** The rate-limit headers of one response, as numbers. */
export interface LimitReading {
	/** X-RateLimit-Limit; null when absent. */
	limit: number | null;
	remaining: number;
	/** Epoch ms of X-RateLimit-Reset (whole unix seconds on the wire). */
	resetAt: number;
}

export function readLimitHeaders(headers: unknown): LimitReading | null {
	const remaining = Number(headerValue(headers, 'x-ratelimit-remaining'));
	const reset = Number(headerValue(headers, 'x-ratelimit-reset'));
	if (!Number.isFinite(remaining) || !Number.isFinite(reset) || remaining < 0 || reset <= 0) return null;
	const limit = Number(headerValue(headers, 'x-ratelimit-limit'));
	return { limit: Number.isFinite(limit) && limit > 0 ? limit : null, remaining, resetAt: reset * 1000 };
}

export interface PacerOptions {
	/** Clock (epoch ms), for tests. */
	now?: () => number;
	/** What an earlier pacer of the same execution knew (`snapshot()`); ignored unless it is one. */
	resume?: unknown;
}

/** One observed response, with when it was sent and received. */
interface Observation extends LimitReading {
	status: number;
	sentAt: number;
	receivedAt: number;
}

/**
 * What a pacer knows, as plain JSON: kept in the execution's flow context so the next node run
 * of the same execution (Dial after Create Session) starts where the last one left off.
 */
export interface PacerState {
	last: Observation | null;
	model: 'window' | 'bucket';
	shared: boolean;
	windowOpenedBy: { sentAt: number; receivedAt: number } | null;
	/** When our first answer in the current window came back (a window we opened or joined). */
	windowSeenFrom?: number | null;
	window: { atMost: number; wholeSeconds: number } | null;
	/** The window length in whole seconds as windows others opened suggest it (0: none yet). */
	joinedWholeSeconds?: number;
	trustWholeSeconds: boolean;
	trustOwnWindows: boolean;
	refilled: number;
	refillMs: number;
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** A PacerState read back from execution data, or null when it is not one. */
function asPacerState(value: unknown): PacerState | null {
	const s = value as PacerState | null | undefined;
	if (!s || typeof s !== 'object' || (s.model !== 'window' && s.model !== 'bucket')) return null;
	const last = s.last;
	if (last !== null && (typeof last !== 'object' || ![last.remaining, last.resetAt, last.status, last.sentAt, last.receivedAt].every(isNumber))) return null;
	if (last !== null && last.limit !== null && !isNumber(last.limit)) return null;
	if (s.windowOpenedBy !== null && (typeof s.windowOpenedBy !== 'object' || !isNumber(s.windowOpenedBy?.receivedAt))) return null;
	if (s.window !== null && (typeof s.window !== 'object' || !isNumber(s.window?.atMost) || !isNumber(s.window?.wholeSeconds))) return null;
	if (![s.refilled, s.refillMs].every(isNumber)) return null;
	if (s.windowSeenFrom !== undefined && s.windowSeenFrom !== null && !isNumber(s.windowSeenFrom)) return null;
	if (s.joinedWholeSeconds !== undefined && !isNumber(s.joinedWholeSeconds)) return null;
	return s;
}

/**
 * How much of its rate a bucket's refill estimate may use: the count behind it is whole tokens
 * (X-RateLimit-Remaining is an integer), so a short span can read high; waiting a little longer
 * only lets more tokens gather, which the next answers spend at once.
 */
const BUCKET_RATE_SHARE = 0.85;
/** A window's start told this closely is met: arriving at most this late still finds requests left. */
const PHASE_ENOUGH_MS = 8;
/** Refill measured over less than this is too coarse to replace the header's own estimate. */
const MIN_REFILL_SPAN_MS = 250;

/**
 * Paces one execution's requests by what Kallglot's answers say about the rate limit, so a
 * campaign uses the whole limit without collecting 429s. Kallglot documents neither a fixed
 * window nor a token bucket; the answers tell them apart:
 *
 * - Send at once while the last answer said a request remains (X-RateLimit-Remaining ≥ 1, or ≥ 2
 *   once another execution is seen spending the same key, so two do not race for the last one).
 * - Nothing remains, fixed window: wait for the window's reset. X-RateLimit-Reset is whole
 *   seconds, so a window that started mid-second reads up to a second late; a window that starts
 *   with our own request (Remaining = Limit − 1 on its answer) ends one window length after it,
 *   and that length is learned as the shortest (reset − send) seen, taken in whole seconds while
 *   no 429 says otherwise. A window another execution opened began before our first answer in it
 *   came back, so it ends at most one window length after that answer: two executions started
 *   together thus both come back at each window's start and split it, instead of one of them
 *   arriving at the rounded-up reset, mid-window. A 429 after such an early wait drops the guess
 *   (whole seconds first, then the window-starts-with-us reading, which an aligned window
 *   contradicts) for the plain reset: at most two 429s per execution come from learning.
 * - Refused before any window of ours (a late-comer: another execution spends each window in a
 *   burst at its start, and 429s do not show in its Remaining): each 429 tells where in the second
 *   the window ends, to within (arrival, min(reset, arrival + Retry-After)]; windows of whole
 *   seconds end at the same point of every second, so the next attempt goes to the middle of what
 *   is still possible, and once that is known to PHASE_ENOUGH_MS, to the window's start, where it
 *   finds requests left and, from then on, meets the other execution at each window's start.
 * - Nothing remains, token bucket (seen as a reset that moves while nothing comes back): wait
 *   for one token at the refill rate measured from the answers (tokens regained per ms).
 *
 * Create one per node run (resuming what the execution's previous node run knew); around every
 * request: `delayMs()`, wait, send, then `observe(headers, sentAt, status)`. It holds no timer:
 * nothing to clean up.
 */
export class RateLimitPacer {
	private readonly now: () => number;
	private last: Observation | null = null;
	private model: 'window' | 'bucket' = 'window';
	/**
	 * Until when another consumer is taken to spend the same key (Remaining fell by more than our
	 * own request): the rest of the run once seen, since one that comes after our burst in each
	 * window never shows again.
	 */
	private sharedUntil = -Infinity;

	/** Send and receive times of the request that opened the current window. */
	private windowOpenedBy: { sentAt: number; receivedAt: number } | null = null;
	/**
	 * When our first answer in the current window came back, whoever opened it: the window began
	 * before then, so it ends at most one window length later.
	 */
	private windowSeenFrom: number | null = null;
	/**
	 * The window's length as windows we opened tell it: at most their shortest (reset − send); in
	 * whole seconds, (reset − the request's midpoint) rounded down, which the rounded-up reset
	 * cannot push a second too far.
	 */
	private window: { atMost: number; wholeSeconds: number } | null = null;
	/**
	 * Until a window of our own tells the length: (reset − our first request's midpoint) in whole
	 * seconds, the longest seen, from windows another consumer opened (a request that arrived just
	 * after the opener's reads it right; a later one reads it short, which the longest outgrows).
	 */
	private joinedWholeSeconds = 0;
	private trustWholeSeconds = true;
	private trustOwnWindows = true;
	/** The wait last given ended before the reported reset (a guess a 429 would refute). */
	private guessedEarly = false;
	/**
	 * Refused before any window of ours (another execution spends each window in a burst at its
	 * start): where in the second the windows end, in (from, from + width] ms, narrowed by each
	 * 429, so we arrive at a window's start and take part of it.
	 */
	private endPhase: { from: number; width: number } | null = null;
	/** When to send next after the last 429, chosen from endPhase once, so waiting does not move it on. */
	private probeAt: number | null = null;

	/** Tokens regained and the ms they took, while the bucket was not full. */
	private refilled = 0;
	private refillMs = 0;

	constructor(options: PacerOptions = {}) {
		this.now = options.now ?? Date.now;
		const state = asPacerState(options.resume);
		if (state !== null) {
			this.last = state.last;
			this.model = state.model;
			this.sharedUntil = state.shared ? Infinity : -Infinity;
			this.windowOpenedBy = state.windowOpenedBy;
			this.windowSeenFrom = state.windowSeenFrom ?? state.windowOpenedBy?.receivedAt ?? null;
			this.window = state.window;
			this.joinedWholeSeconds = state.joinedWholeSeconds ?? 0;
			this.trustWholeSeconds = state.trustWholeSeconds !== false;
			this.trustOwnWindows = state.trustOwnWindows !== false;
			this.refilled = state.refilled;
			this.refillMs = state.refillMs;
		}
	}

	/** The pacer's clock (epoch ms), for stamping when a request is sent. */
	time(): number {
		return this.now();
	}

	/** What this pacer knows, as plain JSON (see PacerState). */
	snapshot(): PacerState {
		return {
			last: this.last,
			model: this.model,
			shared: this.sharedUntil === Infinity,
			windowOpenedBy: this.windowOpenedBy,
			windowSeenFrom: this.windowSeenFrom,
			window: this.window,
			joinedWholeSeconds: this.joinedWholeSeconds,
			trustWholeSeconds: this.trustWholeSeconds,
			trustOwnWindows: this.trustOwnWindows,
			refilled: this.refilled,
			refillMs: this.refillMs,
		};
	}

	/**
	 * Reads the rate-limit headers of any response (2xx, 429, other errors). `sentAt` is when the
	 * request went out (default: now); `status` its HTTP status.
	 */
	observe(headers: unknown, sentAt: number = this.now(), status = 200): void {
		const reading = readLimitHeaders(headers);
		if (reading === null) return;
		const prev = this.last;
		const current: Observation = { ...reading, status, sentAt, receivedAt: this.now() };
		if (status === 429) this.learnFromRefusal();
		this.guessedEarly = false;
		this.probeAt = null;
		if (status === 429 && this.model === 'window' && this.windowSeenFrom === null) this.narrowEndPhase(headers, current);
		else if (status !== 429) this.endPhase = null;
		if (prev !== null && prev.status !== 429 && status !== 429) this.compare(prev, current);
		if (this.model === 'window') this.trackWindow(prev, current);
		this.last = current;
	}

	/** How long to wait before the next request, in ms (0: send now). */
	delayMs(): number {
		const last = this.last;
		if (last === null) return 0;
		const now = this.now();
		if (this.model === 'window' && last.status === 429 && this.endPhase !== null) return this.untilEndPhase(last, now);
		// Shared: the last request is left to the other consumer rather than raced for (a 429).
		if (last.resetAt <= now || last.remaining >= (now < this.sharedUntil ? 2 : 1)) return 0;
		if (this.model === 'bucket') {
			// Shared, the refill is shared too: each consumer takes its turn at half of it.
			const rate = (this.bucketRate(last) ?? 0) / (now < this.sharedUntil ? 2 : 1) || null;
			const next = rate === null ? last.resetAt : Math.min(last.resetAt, last.receivedAt + 1 / rate);
			return Math.max(0, Math.ceil(next - now));
		}
		const reset = this.windowReset(last);
		this.guessedEarly = reset < last.resetAt;
		return Math.max(0, Math.ceil(reset - now));
	}

	/** When the current window ends, as well as it can be told (see the class comment). */
	private windowReset(last: Observation): number {
		const seenFrom = this.windowSeenFrom;
		if (!this.trustOwnWindows || seenFrom === null) return last.resetAt;
		// Our own windows tell the length; until one has, windows others opened suggest it in whole seconds.
		const own = this.window;
		const wholeSeconds = own?.wholeSeconds ?? this.joinedWholeSeconds;
		const span = this.trustWholeSeconds && wholeSeconds >= 1000 ? wholeSeconds : (own?.atMost ?? null);
		if (span === null) return last.resetAt;
		// Received, not sent: the window opened when our first request in it reached Kallglot, at the latest then.
		return Math.min(last.resetAt, seenFrom + span);
	}

	/** A 429 says the window it fell in ends after it arrived and by its reset and its Retry-After. */
	private narrowEndPhase(headers: unknown, refusal: Observation): void {
		const arrived = (refusal.sentAt + refusal.receivedAt) / 2;
		const retryAfter = parseRetryAfter(headerValue(headers, 'retry-after'), refusal.receivedAt);
		const lo = Math.max(arrived, refusal.resetAt - 1000);
		const hi = Math.min(refusal.resetAt, retryAfter === null ? Infinity : refusal.receivedAt + retryAfter);
		if (!(hi - lo < 1000)) return;
		const seen = { from: lo % 1000, width: hi - lo };
		const known = this.endPhase;
		if (known === null) {
			this.endPhase = seen;
			return;
		}
		// Intersect the two arcs of the second (the earlier one shifted by a whole second if that is where they meet).
		let best: { from: number; width: number } | null = null;
		for (const shift of [-1000, 0, 1000]) {
			const from = Math.max(known.from + shift, seen.from);
			const to = Math.min(known.from + shift + known.width, seen.from + seen.width);
			if (to > from && (best === null || to - from > best.width)) best = { from: ((from % 1000) + 1000) % 1000, width: to - from };
		}
		// None: the windows moved (another execution's drift, or not whole seconds): start again from this answer.
		this.endPhase = best ?? seen;
	}

	/** The wait until the next moment in the second where a window may start, probing the middle of what is left. */
	private untilEndPhase(last: Observation, now: number): number {
		const { from, width } = this.endPhase!;
		const halfTrip = (last.receivedAt - last.sentAt) / 2;
		const phase = width <= PHASE_ENOUGH_MS ? from + width : from + width / 2;
		if (this.probeAt === null) {
			const earliest = now + halfTrip;
			this.probeAt = earliest + ((((phase - earliest) % 1000) + 1000) % 1000) - halfTrip;
		}
		return Math.max(0, Math.ceil(this.probeAt - now));
	}

	private learnFromRefusal(): void {
		if (this.model === 'bucket') {
			// The refill estimate read high: start it again from the headers.
			this.refilled = 0;
			this.refillMs = 0;
		} else if (this.guessedEarly) {
			if (this.trustWholeSeconds) this.trustWholeSeconds = false;
			else this.trustOwnWindows = false;
		}
	}

	/** What two successive answers say about the model and about other consumers of the key. */
	private compare(prev: Observation, current: Observation): void {
		const spent = prev.remaining - current.remaining;
		if (current.resetAt === prev.resetAt && spent > 1) {
			this.sharedUntil = Infinity;
		}
		// A fixed window's reset moves only when the window turns over, and then capacity comes
		// back; a reset that moves later while Remaining falls is a bucket filling up again.
		// (A window another consumer opened and emptied also looks so: when the key is shared, only
		// a moved reset with a request still left counts.)
		const alone = current.receivedAt >= this.sharedUntil;
		if (this.model === 'window' && current.resetAt > prev.resetAt && spent >= 1 && (current.remaining > 0 || alone)) {
			this.model = 'bucket';
			this.windowOpenedBy = null;
			this.windowSeenFrom = null;
		}
		if (this.model === 'bucket' && current.limit !== null && prev.remaining < current.limit - 1) {
			this.refilled += Math.max(0, current.remaining - prev.remaining + 1);
			this.refillMs += current.receivedAt - prev.receivedAt;
		}
	}

	private trackWindow(prev: Observation | null, current: Observation): void {
		if (current.status === 429) return;
		const turnedOver = prev === null || current.resetAt !== prev.resetAt || current.remaining > prev.remaining;
		if (!turnedOver) return;
		// Only a window our own request opened tells its length (another consumer may have opened it earlier).
		const opened = current.limit !== null && current.remaining === current.limit - 1;
		this.windowOpenedBy = opened ? { sentAt: current.sentAt, receivedAt: current.receivedAt } : null;
		const wholeSeconds = Math.floor((current.resetAt - (current.sentAt + current.receivedAt) / 2) / 1000) * 1000;
		// A window someone else opened counts when capacity came back in it or another consumer's
		// spending shows; a reset that only moved past our own request may be a bucket not yet told
		// apart, so its end is left to the reported reset.
		const joined = !opened && current.limit !== null && (prev === null || current.remaining > prev.remaining || prev.remaining - current.remaining > 1);
		this.windowSeenFrom = opened || joined ? current.receivedAt : null;
		// Only a window with room left when we came reads its length from our request: one already
		// spent may have been opened long before (a late request reads it short, an early wait, a 429).
		if (joined && current.remaining > 0) this.joinedWholeSeconds = Math.max(this.joinedWholeSeconds, wholeSeconds);
		if (!opened) return;
		const atMost = current.resetAt - current.sentAt;
		this.window = this.window === null ? { atMost, wholeSeconds } : { atMost: Math.min(this.window.atMost, atMost), wholeSeconds: Math.max(this.window.wholeSeconds, wholeSeconds) };
	}

	/** Tokens per ms a bucket gives back, or null when nothing tells it yet. */
	private bucketRate(last: Observation): number | null {
		if (this.refillMs >= MIN_REFILL_SPAN_MS && this.refilled > 0) return (BUCKET_RATE_SHARE * this.refilled) / this.refillMs;
		// X-RateLimit-Reset of a bucket is when it is full again: (limit − remaining) tokens by then,
		// a rate read low (the reset is rounded up), which is the safe side.
		const untilFull = last.resetAt - last.receivedAt;
		if (last.limit === null || untilFull <= 0) return null;
		return (last.limit - last.remaining) / untilFull;
	}
}
