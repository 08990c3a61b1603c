/**
 * Retry-After in both RFC 9110 forms, the envelope's retry_after, and pacing by
 * X-RateLimit-Limit / -Remaining / -Reset across the items of one execution: the pacer's steps on
 * a fake clock, whole campaigns against the sandbox's limiters on a simulated clock, and the node
 * against the sandbox over loopback, the node's waits and the sandbox's limiter on one fake clock
 * (the exact waits and send times, whatever the machine's load).
 */
import { parseRetryAfter, RateLimitPacer, retryDelayHint } from '../../nodes/shared/rateLimit';
import { KallglotSandbox } from '../../sandbox';
import type { IRun } from 'n8n-workflow';
import { kallglotOnClock, runKallglotNode, type RunOptions } from '../helpers/engine';
import { FakeClock, stepToEnd } from '../helpers/clock';
import { simulate } from '../helpers/pacingSim';
import { RETRY } from '../../nodes/shared/api/retry';
import { dialItems, startCampaign } from '../helpers/campaign';

const NOW = Date.UTC(2026, 11, 1, 19, 12, 18, 500);

describe('Retry-After parsing (plain functions)', () => {
	test('delay-seconds', () => {
		expect(parseRetryAfter('5', NOW)).toBe(5000);
		expect(parseRetryAfter(' 0 ', NOW)).toBe(0);
		expect(parseRetryAfter('1.5', NOW)).toBe(1500);
	});

	test('an HTTP-date, relative to now; a past date means now', () => {
		expect(parseRetryAfter('Tue, 01 Dec 2026 19:12:21 GMT', NOW)).toBe(2500);
		expect(parseRetryAfter('Tue, 01 Dec 2026 19:00:00 GMT', NOW)).toBe(0);
		// The two obsolete forms RFC 9110 still asks recipients to accept.
		expect(parseRetryAfter('Tuesday, 01-Dec-26 19:12:21 GMT', NOW)).toBe(2500);
		expect(parseRetryAfter('Tue Dec  1 19:12:21 2026', NOW)).toBeNull(); // asctime: no zone, refused rather than read as local time
	});

	test.each([undefined, '', 'soon', '-3', '5s', 'Tue, 99 Foo 2026 GMT'])('unusable %p → null', (raw) => {
		expect(parseRetryAfter(raw, NOW)).toBeNull();
	});

	test('the longest of the header and the envelope wins; either alone is used', () => {
		expect(retryDelayHint('2', 5, NOW)).toBe(5000);
		expect(retryDelayHint('Tue, 01 Dec 2026 19:12:28 GMT', 5, NOW)).toBe(9500);
		expect(retryDelayHint('garbage', 3, NOW)).toBe(3000);
		expect(retryDelayHint(undefined, 3, NOW)).toBe(3000);
		expect(retryDelayHint('4', undefined, NOW)).toBe(4000);
		expect(retryDelayHint('garbage', 'x', NOW)).toBeNull();
	});
});

describe('RateLimitPacer (plain object, injected clock)', () => {
	// 0.437 s into a second: a window opened now is reported as ending at a whole second up to 1 s late.
	const START = Date.UTC(2026, 11, 1, 19, 12, 18, 437);
	let now = START;
	const pacer = () => new RateLimitPacer({ now: () => now });
	/** One answer: sent `rtt` ms ago, received now. */
	const answer = (p: RateLimitPacer, limit: number, remaining: number, resetAtMs: number, status = 200, rtt = 2) =>
		p.observe(
			{ 'x-ratelimit-limit': String(limit), 'x-ratelimit-remaining': String(remaining), 'x-ratelimit-reset': String(Math.ceil(resetAtMs / 1000)) },
			now - rtt,
			status,
		);

	beforeEach(() => {
		now = START;
	});

	test('sends at once before any answer and while a request remains', () => {
		const p = pacer();
		expect(p.delayMs()).toBe(0);
		answer(p, 2, 1, START + 1000);
		expect(p.delayMs()).toBe(0);
		answer(p, 2, 0, START + 1000);
		expect(p.delayMs()).toBeGreaterThan(0);
	});

	test('a window it opened ends one whole second after its first request reached Kallglot, not at the rounded-up reset', () => {
		const p = pacer();
		now += 2;
		answer(p, 5, 4, START + 1 + 1000); // opened at +1 ms: Kallglot says reset at the next whole second but one
		const opened = now;
		for (const remaining of [3, 2, 1, 0]) {
			now += 3;
			answer(p, 5, remaining, START + 1 + 1000);
		}
		// Reported reset: 19:12:20.000 (1.563 s away); the window really ends at +1.001 s.
		expect(p.delayMs()).toBe(opened + 1000 - now);
	});

	test('a 429 after such a wait gives up whole seconds, a second one the own-window reading: learning costs at most two', () => {
		const p = pacer();
		const windowMs = 1500; // not whole seconds
		const open = () => {
			const first = now;
			answer(p, 2, 1, first - 1 + windowMs);
			now += 3;
			answer(p, 2, 0, first - 1 + windowMs);
			return first;
		};
		let first = open();
		let reportedReset = Math.ceil((first - 1 + windowMs) / 1000) * 1000;
		expect(p.delayMs()).toBe(first + 1000 - now); // guesses 1 s
		now = first + 1000;
		answer(p, 2, 0, first - 1 + windowMs, 429);
		// Retry-After is waited out by the transport; the guess is now (reset − send) at most.
		now = reportedReset + 5;
		first = open();
		reportedReset = Math.ceil((first - 1 + windowMs) / 1000) * 1000;
		const atMost = Math.min(first - 2 + windowMs + 1000, reportedReset - first + 2); // shortest (reset − send) so far
		expect(p.delayMs()).toBeLessThanOrEqual(reportedReset - now);
		expect(p.delayMs()).toBeGreaterThanOrEqual(Math.min(atMost, windowMs) - 1000);
		now = reportedReset - 1;
		answer(p, 2, 0, first - 1 + windowMs, 429);
		now = reportedReset + 5;
		first = open();
		// From now on: the reported reset.
		expect(p.delayMs()).toBe(Math.ceil((first - 1 + windowMs) / 1000) * 1000 - now);
	});

	test('a window another consumer opened: ends one whole second after our first answer in it; after a 429 that refutes it, at the reported reset', () => {
		const p = pacer();
		answer(p, 5, 2, START + 800); // not Limit − 1: the window was open before this request
		answer(p, 5, 0, START + 800);
		// Reported reset 19:12:20.000 (1.563 s away, a whole second after the request's midpoint
		// rounded down); the window began before our answer, so it ends by +1 s.
		expect(p.delayMs()).toBe(1000);
		now += 1000;
		answer(p, 5, 0, START + 800, 429); // pretend the window was longer: the guess was early
		expect(p.delayMs()).toBe(Math.ceil((START + 800) / 1000) * 1000 - now);
	});

	test('without X-RateLimit-Limit nobody can tell who opened a window: the reported reset', () => {
		const p = pacer();
		p.observe({ 'x-ratelimit-remaining': '2', 'x-ratelimit-reset': String(Math.ceil((START + 800) / 1000)) }, now - 2);
		p.observe({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.ceil((START + 800) / 1000)) }, now - 2);
		expect(p.delayMs()).toBe(Math.ceil((START + 800) / 1000) * 1000 - now);
	});

	test('two executions started together: the one that did not open the window comes back at its end too, with the opener', () => {
		// Both send at START; A's request opens a 1 s window, B's lands just after it.
		const a = pacer();
		const b = pacer();
		const resetAt = START + 1 + 1000; // reported 19:12:20.000
		now = START + 3;
		answer(a, 5, 4, resetAt, 200, 3);
		answer(b, 5, 3, resetAt, 200, 3);
		now += 3;
		answer(a, 5, 2, resetAt, 200, 3); // fell by 2: B is spending too
		answer(b, 5, 1, resetAt, 200, 3);
		// A read 2, B read 1: A takes the window's last request, B leaves it (no race for it).
		expect(a.delayMs()).toBe(0);
		expect(b.delayMs()).toBeGreaterThan(0);
		now += 3;
		answer(a, 5, 0, resetAt, 200, 3);
		// Both wait until one second after their first answer (+3 ms), not until the reported reset (+1.563 s).
		expect(a.delayMs()).toBe(START + 3 + 1000 - now);
		expect(b.delayMs()).toBe(START + 3 + 1000 - now);
	});

	test('a late-comer refused every window (another execution bursts at each start): each 429 halves where the window starts, then it arrives there', () => {
		// The other execution opens a 1 s window at .437 of every second and spends it in its first 12 ms.
		const WHOLE = START - 437;
		const late = pacer();
		const arrivals: number[] = [];
		now = START + 502;
		late.observe({ ...headersAt(START + 501), 'retry-after': '1' }, START + 500, 429);
		for (let attempt = 0; attempt < 12; attempt++) {
			now += 1000; // the Retry-After
			now += late.delayMs();
			const arrived = now + 1;
			arrivals.push((arrived - WHOLE) % 1000);
			const intoWindow = (arrived - WHOLE - 437 + 1000) % 1000;
			now += 2;
			if (intoWindow < 12) {
				late.observe({ ...headersAt(arrived), 'x-ratelimit-remaining': '1' }, now - 2, 200);
				break;
			}
			late.observe({ ...headersAt(arrived), 'retry-after': '1' }, now - 2, 429);
		}
		// Where in the second the window starts: (0, 939] after the first 429 (refused at .938, told 1 s);
		// each probe goes to the middle (waits are whole ms) and its 429 halves it: after .470 (0, 472],
		// after .236 (236, 472], after .354 (354, 472], after .413 (413, 472]; .442 is 5 ms into a window.
		expect(arrivals).toEqual([470, 236, 354, 413, 442]);
		expect(late.delayMs()).toBe(0);
		function headersAt(arrived: number) {
			const windowEnd = WHOLE + 437 + Math.ceil((arrived - WHOLE - 437) / 1000) * 1000;
			return { 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.ceil(windowEnd / 1000)) };
		}
	});

	test('another consumer on the key: the last request is left to it instead of raced for', () => {
		const p = pacer();
		answer(p, 50, 40, START + 1000);
		now += 3;
		answer(p, 50, 38, START + 1000); // fell by 2: someone else sent one
		now += 3;
		answer(p, 50, 1, START + 1000);
		expect(p.delayMs()).toBeGreaterThan(0);
	});

	test('a token bucket (the reset moves while Remaining falls): waits for one token at the measured refill', () => {
		const p = pacer();
		const rate = 5 / 1000; // tokens per ms
		let tokens = 5;
		const send = () => {
			tokens -= 1;
			answer(p, 5, Math.floor(tokens), now + (5 - tokens) / rate);
		};
		send(); // reset ≈ +0.2 s → rounded to 19:12:19
		now += 3;
		send();
		now += 3;
		send(); // reset ≈ +0.6 s → 19:12:20: moved while Remaining fell
		now += 3;
		send();
		now += 3;
		send(); // empty
		// From the headers: 5 tokens until the (rounded-up) reset → a rate read low, the safe side.
		const untilFull = Math.ceil((now + (5 - tokens) / rate) / 1000) * 1000 - now;
		expect(p.delayMs()).toBe(Math.ceil(untilFull / (5 - Math.floor(tokens))));
	});

	test('the next node run resumes from a snapshot (plain JSON, as n8n keeps it); anything else is ignored', () => {
		const p = pacer();
		answer(p, 5, 4, START + 1002);
		const opened = now;
		answer(p, 5, 0, START + 1002);
		const saved = JSON.parse(JSON.stringify(p.snapshot()));
		const next = new RateLimitPacer({ now: () => now, resume: saved });
		expect(next.delayMs()).toBe(opened + 1000 - now);
		expect(new RateLimitPacer({ now: () => now, resume: { model: 'window', last: 'nonsense' } }).delayMs()).toBe(0);
	});

	test('ignores answers without the headers (or with nonsense); header names are case-insensitive', () => {
		const p = pacer();
		p.observe({});
		p.observe({ 'x-ratelimit-remaining': 'lots', 'x-ratelimit-reset': 'later' });
		expect(p.delayMs()).toBe(0);
		p.observe({ 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': String((now + 1563) / 1000) });
		expect(p.delayMs()).toBe(1563);
		now += 1563;
		expect(p.delayMs()).toBe(0);
	});
});

describe('a campaign against the sandbox limiters on a simulated clock (same steps every run)', () => {
	// Start phases across a second: at, just after and just before a whole second.
	const phases = [1_796_000_000_000, 1_796_000_000_437, 1_796_000_000_990];

	test.each([
		['fixed-window', 5],
		['fixed-window', 50],
		['fixed-window', 500],
		['token-bucket', 5],
		['token-bucket', 50],
		['token-bucket', 500],
	] as const)('%s at %i/s: within 1.08× of the floor, no 429', (model, limit) => {
		for (const startAt of phases) {
			const result = simulate({ model, limit, requests: Math.max(60, limit * 8), startAt });
			expect(result.refused).toBe(0);
			expect(result.ratioToIdeal).toBeLessThanOrEqual(1.08);
		}
	});

	test.each([
		['fixed-window', 50],
		['fixed-window', 500],
		['token-bucket', 50],
		['token-bucket', 500],
	] as const)('two executions on one key, %s at %i/s: together ≥ 0.9× the limit, no 429', (model, limit) => {
		for (const startAt of phases) {
			const result = simulate({ model, limit, requests: limit * 8, clients: 2, startAt });
			expect(result.refused).toBe(0);
			expect(result.ratioToIdeal).toBeLessThanOrEqual(1 / 0.9);
		}
	});

	test('two executions at 5/s on a fixed window: both come back at each window\'s start and split it: 0.955× the limit, no 429', () => {
		for (const startAt of phases) {
			const result = simulate({ model: 'fixed-window', limit: 5, requests: 60, clients: 2, startAt });
			expect(result).toMatchObject({ refused: 0, maxAttempts: 1, ratioToIdeal: 1.047, perClient: [60, 60] });
		}
	});

	test('two executions at 5/s on a token bucket: 0.88–0.96× the limit, at most 6 × 429, none retried more than once', () => {
		const ratios = phases.map((startAt) => simulate({ model: 'token-bucket', limit: 5, requests: 60, clients: 2, startAt }));
		expect(ratios.map((r) => r.ratioToIdeal)).toEqual([1.131, 1.037, 1.088]);
		expect(ratios.map((r) => r.refused)).toEqual([0, 6, 0]);
		expect(Math.max(...ratios.map((r) => r.maxAttempts))).toBeLessThanOrEqual(2);
	});
	test.each([
		['fixed-window', 5, true],
		['fixed-window', 50, false],
		['token-bucket', 5, true],
		['token-bucket', 50, false],
	] as const)('a second execution started 0.1–1.7 s after the first, %s at %i/s: its 429s are waited out, no item fails', (model, limit, failedBefore) => {
		const staggers = Array.from({ length: 17 }, (_, i) => (i + 1) * 100);
		const withWaits = staggers.map((staggerMs) => simulate({ model, limit, requests: limit * 8, clients: 2, staggerMs }));
		for (const result of withWaits) {
			expect(result.failed).toBe(0);
			expect(result.perClient).toEqual([limit * 8, limit * 8]);
		}
		// Every 429 counted against the 3 retries (the transport before rateLimitWaitMs): items failed.
		const countedAsRetries = { ...RETRY.default, rateLimitWaitMs: undefined };
		const failed = staggers.map((staggerMs) => simulate({ model, limit, requests: limit * 8, clients: 2, staggerMs, policy: countedAsRetries }).failed);
		expect(Math.max(...failed) > 0).toBe(failedBefore);
	});

	test.each([
		[5, 300],
		[50, 3000],
	] as const)('a late-comer behind a long campaign, fixed window at %i/s: in within 10 s (not when the first ends), a share of the windows, no failure', (limit, requests) => {
		for (const staggerMs of [100, 500, 900, 1300, 1700]) {
			const result = simulate({ model: 'fixed-window', limit, requests, clients: 2, staggerMs });
			expect(result.failed).toBe(0);
			expect(result.firstAcceptedMs[1]).toBeLessThanOrEqual(10_000);
			expect(result.maxAttempts).toBeLessThanOrEqual(8);
			expect(result.refused).toBeLessThanOrEqual(8);
			// Together ≥ 0.9× the limit.
			expect(result.ratioToIdeal).toBeLessThanOrEqual(1 / 0.9);
		}
	});
});

describe('through the node and the sandbox', () => {
	let sandbox: KallglotSandbox | undefined;
	afterEach(async () => {
		await sandbox?.close();
		sandbox = undefined;
	});
	const credentials = () => ({ apiKey: sandbox!.apiKey, baseUrl: sandbox!.baseUrl });
	const createParams = { resource: 'session', operation: 'create', mode: 'bidirectional_translation' };
	const creates = () => sandbox!.requests.filter((r) => r.method === 'POST' && r.path === '/v1/sessions');

	/**
	 * The node on a fake clock, run to its end with its waits fired one by one; `sentAt`: when each
	 * request the sandbox saw went out, on that clock (time moves only between the node's requests).
	 */
	async function runOnClock(clock: FakeClock, options: Omit<RunOptions, 'credentials' | 'clock'>) {
		const sentAt: number[] = [];
		const { result, waits } = await stepToEnd(clock, runKallglotNode({ ...options, credentials: credentials(), clock }), () => {
			for (let i = sentAt.length; i < sandbox!.requests.length; i++) sentAt.push(clock.now());
		});
		if (result.status === 'rejected') throw result.reason;
		return { ...result.value, waits, sentAt };
	}
	/** The limiter on the test's clock, as generous as the sandbox's nominal headers: its headers follow the fake time. */
	const nominal = (clock: FakeClock) => ({ limit: 1000, windowMs: 60_000, now: () => clock.now() });

	test('a 429 with an HTTP-date Retry-After is retried at that date, exactly', async () => {
		const clock = new FakeClock(NOW);
		sandbox = await KallglotSandbox.start({ rateLimit: nominal(clock) });
		// HTTP-dates have whole seconds: 2.5 s after 19:12:18.500.
		const date = 'Tue, 01 Dec 2026 19:12:21 GMT';
		sandbox.injectFault({ path: '/v1/sessions', status: 429, code: 'rate_limit_exceeded', retryAfterHeader: date });
		const { items, error, waits, sentAt } = await runOnClock(clock, { parameters: createParams });
		expect(error).toBeUndefined();
		expect(items?.[0].json.id).toMatch(/^sess_/);
		expect(creates().map((r) => r.status)).toEqual([429, 201]);
		expect(waits).toEqual([2500]); // not the 0.5 s backoff
		expect(sentAt).toEqual([NOW, Date.parse(date)]);
	});

	test('an unparseable Retry-After falls back to the envelope\'s retry_after', async () => {
		const clock = new FakeClock(NOW);
		sandbox = await KallglotSandbox.start({ rateLimit: nominal(clock) });
		sandbox.injectFault({ path: '/v1/sessions', status: 429, retryAfterHeader: 'in a bit', retryAfter: 2 });
		const { error, waits, sentAt } = await runOnClock(clock, { parameters: createParams });
		expect(error).toBeUndefined();
		expect(waits).toEqual([2000]);
		expect(sentAt).toEqual([NOW, NOW + 2000]);
	});

	test('the longest hint wins: header 0 s, envelope 2 s', async () => {
		const clock = new FakeClock(NOW);
		sandbox = await KallglotSandbox.start({ rateLimit: nominal(clock) });
		sandbox.injectFault({ path: '/v1/sessions', status: 429, retryAfterHeader: '0', retryAfter: 2 });
		const { error, waits, sentAt } = await runOnClock(clock, { parameters: createParams });
		expect(error).toBeUndefined();
		expect(waits).toEqual([2000]);
		expect(sentAt).toEqual([NOW, NOW + 2000]);
	});

	test('a real limiter answering HTTP-dates: the item waits it out, exactly, and succeeds', async () => {
		const clock = new FakeClock(NOW);
		sandbox = await KallglotSandbox.start({ rateLimit: { limit: 1, windowMs: 2500, retryAfterFormat: 'http-date', now: () => clock.now() } });
		await runOnClock(clock, { parameters: createParams }); // opens the window at 19:12:18.500 and fills it
		sandbox.clearRequests();
		const { items, error, waits, sentAt } = await runOnClock(clock, { parameters: createParams });
		expect(error).toBeUndefined();
		expect(items?.[0].json.id).toMatch(/^sess_/);
		// The window ends at 19:12:21.000; the limiter says 3 s (rounded up) as an HTTP-date: 19:12:21 GMT.
		expect(creates().map((r) => r.status)).toEqual([429, 201]);
		expect(waits).toEqual([2500]);
		expect(sentAt).toEqual([NOW, Date.UTC(2026, 11, 1, 19, 12, 21)]);
	});

	// One campaign of N items under a limit of L per window: the pacer reads the headers of each
	// answer, so items wait for the window instead of bouncing off 429s. The node and the limiter
	// share a fake clock: the same steps every run, whatever the machine's load.
	const campaignOf8 = (clock: FakeClock) => runOnClock(clock, {
		parameters: createParams,
		input: Array.from({ length: 8 }, (_, i) => ({ json: { contact: i } })),
		continueOnFail: true,
	});

	test('a campaign of 8 items under a 3-per-second limit: waits for each window, no 429, all sessions created', async () => {
		const clock = new FakeClock(NOW);
		sandbox = await KallglotSandbox.start({ rateLimit: { limit: 3, windowMs: 1000, now: () => clock.now() } });
		const { items, error, waits, sentAt } = await campaignOf8(clock);
		expect(error).toBeUndefined();
		expect(items?.filter((i) => i.json.error !== undefined)).toEqual([]);
		expect(items?.map((i) => i.pairedItem)).toEqual(Array.from({ length: 8 }, (_, i) => ({ item: i })));
		expect(waits).toEqual([1000, 1000]);
		expect(sentAt.map((t) => t - NOW)).toEqual([0, 0, 0, 1000, 1000, 1000, 2000, 2000]);
		expect(creates().filter((r) => r.status === 429)).toHaveLength(0);
		expect(sandbox.sessions.size).toBe(8);
	});

	test('a campaign of 8 items under a 3-per-1500 ms limit (not whole seconds): the 1 s guess costs one 429, then the window it measured', async () => {
		const clock = new FakeClock(NOW);
		sandbox = await KallglotSandbox.start({ rateLimit: { limit: 3, windowMs: 1500, now: () => clock.now() } });
		const { items, error, waits, sentAt } = await campaignOf8(clock);
		expect(error).toBeUndefined();
		expect(items?.filter((i) => i.json.error !== undefined)).toEqual([]);
		// 1 s guessed → 429 with Retry-After 1 s (0.5 s left, rounded up) → a new window at 2 s, spent → 1.5 s, its length.
		expect(waits).toEqual([1000, 1000, 1500]);
		expect(sentAt.map((t) => t - NOW)).toEqual([0, 0, 0, 1000, 2000, 2000, 2000, 3500, 3500]);
		expect(creates().map((r) => r.status)).toEqual([201, 201, 201, 429, 201, 201, 201, 201, 201]);
		expect(sandbox.sessions.size).toBe(8);
	});

	test('a token-bucket limit (3 tokens, 3 per second): waits at the measured refill, no 429, no failure', async () => {
		const clock = new FakeClock(NOW);
		sandbox = await KallglotSandbox.start({ rateLimit: { limit: 3, windowMs: 1000, model: 'token-bucket', now: () => clock.now() } });
		const { items, error, waits, sentAt } = await campaignOf8(clock);
		expect(error).toBeUndefined();
		expect(items?.filter((i) => i.json.error !== undefined)).toEqual([]);
		// The refill is read from the rounded-up resets: low at first (the safe side), never into an empty bucket.
		expect(waits).toEqual([500, 589, 428, 447]);
		expect(sentAt.map((t) => t - NOW)).toEqual([0, 0, 0, 500, 1089, 1089, 1517, 1964]);
		expect(creates().filter((r) => r.status === 429)).toHaveLength(0);
		expect(sandbox.sessions.size).toBe(8);
	});

	test('a campaign of 5 contacts under 5 per second: the Dial node carries on from what Create Session learned, no 429', async () => {
		const clock = new FakeClock(NOW);
		sandbox = await KallglotSandbox.start({ rateLimit: { limit: 5, windowMs: 1000, now: () => clock.now() } });
		// The 5 creates spend the window: a Dial node starting from nothing would send into it (a 429).
		const sentAt: number[] = [];
		const { result, waits } = await stepToEnd(clock, startCampaign(kallglotOnClock(clock), credentials(), 5, 'carry').done, () => {
			for (let i = sentAt.length; i < sandbox!.requests.length; i++) sentAt.push(clock.now());
		});
		expect(result.status).toBe('fulfilled');
		const run = (result as PromiseFulfilledResult<IRun>).value;
		expect(dialItems(run).filter((item) => item.json.error === undefined)).toHaveLength(5);
		expect(waits).toEqual([1000]);
		expect(sentAt.map((t) => t - NOW)).toEqual([0, 0, 0, 0, 0, 1000, 1000, 1000, 1000, 1000]);
		expect(sandbox.requests.filter((r) => r.status === 429)).toEqual([]);
		expect(sandbox.requests.filter((r) => r.path.endsWith('/dial') && r.status === 200)).toHaveLength(5);
	});

	test('the pacer is per execution: a new run does not inherit a wait', async () => {
		const clock = new FakeClock(NOW);
		sandbox = await KallglotSandbox.start({ rateLimit: { limit: 1, windowMs: 120_000, now: () => clock.now() } });
		const first = await runOnClock(clock, { parameters: createParams });
		expect(first.error).toBeUndefined();
		// The next run sends at once (no shared pacer says "wait 120 s"), and the limiter's 429 with
		// a 120 s Retry-After (over the 60 s the node holds an execution) fails fast.
		const second = await runOnClock(clock, { parameters: createParams });
		expect(second.error?.message).toMatch(/Kallglot 429 rate_limit_exceeded/);
		expect(second.waits).toEqual([]);
		expect(second.sentAt).toEqual([NOW, NOW]);
		expect(creates().filter((r) => r.status === 429)).toHaveLength(1);
	});
});
