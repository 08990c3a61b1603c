/**
 * Retry-After in both RFC 9110 forms, the envelope's retry_after, and pacing by
 * X-RateLimit-Remaining / X-RateLimit-Reset across the items of one execution.
 */
import { parseRetryAfter, RateLimitPacer, retryDelayHint } from '../../nodes/shared/rateLimit';
import { KallglotSandbox } from '../../sandbox';
import { runKallglotNode } from '../helpers/engine';

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
	let now = NOW;
	const pacer = () => new RateLimitPacer({ now: () => now, lowWater: 3 });
	const headers = (remaining: number, resetInMs: number) => ({
		'x-ratelimit-remaining': String(remaining),
		'x-ratelimit-reset': String((now + resetInMs) / 1000),
	});

	beforeEach(() => {
		now = NOW;
	});

	test('sends at once before any response and while plenty remain', () => {
		const p = pacer();
		expect(p.delayMs()).toBe(0);
		p.observe(headers(50, 10_000));
		expect(p.delayMs()).toBe(0);
	});

	test('waits for the reset when nothing remains, then forgets the window', () => {
		const p = pacer();
		p.observe(headers(0, 4000));
		expect(p.delayMs()).toBe(4000);
		now += 4000;
		expect(p.delayMs()).toBe(0);
		now += 10_000;
		expect(p.delayMs()).toBe(0);
	});

	test('spreads the last requests of a window over the time to its reset', () => {
		const p = pacer();
		p.observe(headers(2, 3000));
		expect(p.delayMs()).toBe(1000);
		p.observe(headers(1, 2000));
		expect(p.delayMs()).toBe(1000);
	});

	test('ignores responses without the headers (or with nonsense)', () => {
		const p = pacer();
		p.observe({});
		p.observe({ 'x-ratelimit-remaining': 'lots', 'x-ratelimit-reset': 'later' });
		expect(p.delayMs()).toBe(0);
		p.observe({ 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': String((now + 1000) / 1000) });
		expect(p.delayMs()).toBe(1000); // header names are case-insensitive
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
	/** Gap between the first attempt and its retry, as the sandbox saw them. */
	const retryGap = () => creates()[1].at - creates()[0].at;

	test('a 429 with an HTTP-date Retry-After is retried no earlier than that date', async () => {
		sandbox = await KallglotSandbox.start();
		// HTTP-dates have whole seconds: 2.5 s ahead is at least 1.5 s ahead once truncated.
		const date = new Date(Date.now() + 2500).toUTCString();
		sandbox.injectFault({ path: '/v1/sessions', status: 429, code: 'rate_limit_exceeded', retryAfterHeader: date });
		const started = Date.now();
		const { items, error } = await runKallglotNode({ parameters: createParams, credentials: credentials() });
		expect(error).toBeUndefined();
		expect(items?.[0].json.id).toMatch(/^sess_/);
		expect(creates()).toHaveLength(2);
		expect(creates()[1].at).toBeGreaterThanOrEqual(Math.floor(started / 1000) * 1000 + 1000); // not the 0.5 s backoff
		expect(creates()[1].at).toBeGreaterThanOrEqual(Date.parse(date));
	});

	test('an unparseable Retry-After falls back to the envelope\'s retry_after', async () => {
		sandbox = await KallglotSandbox.start();
		sandbox.injectFault({ path: '/v1/sessions', status: 429, retryAfterHeader: 'in a bit', retryAfter: 2 });
		const { error } = await runKallglotNode({ parameters: createParams, credentials: credentials() });
		expect(error).toBeUndefined();
		expect(retryGap()).toBeGreaterThanOrEqual(1900);
	});

	test('the longest hint wins: header 0 s, envelope 2 s', async () => {
		sandbox = await KallglotSandbox.start();
		sandbox.injectFault({ path: '/v1/sessions', status: 429, retryAfterHeader: '0', retryAfter: 2 });
		const { error } = await runKallglotNode({ parameters: createParams, credentials: credentials() });
		expect(error).toBeUndefined();
		expect(retryGap()).toBeGreaterThanOrEqual(1900);
	});

	test('a real limiter answering HTTP-dates: the item waits it out and succeeds', async () => {
		sandbox = await KallglotSandbox.start({ rateLimit: { limit: 1, windowMs: 2500, retryAfterFormat: 'http-date' } });
		await runKallglotNode({ parameters: createParams, credentials: credentials() }); // fills the window
		sandbox.clearRequests();
		const { items, error } = await runKallglotNode({ parameters: createParams, credentials: credentials() });
		expect(error).toBeUndefined();
		expect(items?.[0].json.id).toMatch(/^sess_/);
		const limited = creates().filter((r) => r.status === 429);
		expect(limited.length).toBeLessThanOrEqual(1); // the first try of this run, then a single retry at the date
	});

	// One campaign of N items under a limit of L per window: the pacer reads the headers of each
	// answer, so items wait for the reset instead of bouncing off 429s.
	test('a campaign of 8 items under a 3-per-1.5 s limit: no 429, no failure, all sessions created', async () => {
		sandbox = await KallglotSandbox.start({ rateLimit: { limit: 3, windowMs: 1500 } });
		const input = Array.from({ length: 8 }, (_, i) => ({ json: { contact: i } }));
		const { items, error } = await runKallglotNode({ parameters: createParams, input, credentials: credentials(), continueOnFail: true });
		expect(error).toBeUndefined();
		expect(items?.filter((i) => i.json.error !== undefined)).toEqual([]);
		expect(items?.map((i) => i.pairedItem)).toEqual(input.map((_, i) => ({ item: i })));
		expect(creates().filter((r) => r.status === 429)).toHaveLength(0);
		expect(sandbox.sessions.size).toBe(8);
	});

	test('the pacer is per execution: a new run does not inherit a wait', async () => {
		sandbox = await KallglotSandbox.start({ rateLimit: { limit: 1, windowMs: 120_000 } });
		const first = await runKallglotNode({ parameters: createParams, credentials: credentials() });
		expect(first.error).toBeUndefined();
		// The next run sends at once (no shared pacer says "wait 120 s"), and the limiter's 429 with
		// a 120 s Retry-After (over the 60 s the node holds an execution) fails fast.
		const second = await runKallglotNode({ parameters: createParams, credentials: credentials() });
		expect(second.error?.message).toMatch(/Kallglot 429 rate_limit_exceeded/);
		expect(creates().filter((r) => r.status === 429)).toHaveLength(1);
	});
});
