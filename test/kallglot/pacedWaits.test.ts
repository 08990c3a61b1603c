/**
 * The client's pace → send → classify → wait path on a fake clock: every wait (paced, Retry-After,
 * backoff) is a timer on the injected clock, so the exact waits are seen, and a stop ends a wait at
 * once with nothing more sent. Kallglot's answers are scripted (the only stand-in here is the
 * Kallglot cloud itself); the context is the part of n8n's the transport uses.
 */
import type { IExecuteFunctions, INode } from 'n8n-workflow';

import { KallglotApi } from '../../nodes/shared/api';
import { RateLimitPacer } from '../../nodes/shared/rateLimit';
import { FakeClock, stepToEnd, turn } from '../helpers/clock';

const START = Date.UTC(2026, 11, 1, 19, 12, 18, 437);
const RTT_MS = 2;
const node: INode = { id: '1', name: 'Kallglot', type: 'n8n-nodes-kallglot.kallglot', typeVersion: 1, position: [0, 0], parameters: {} };

type Answer = { statusCode: number; headers: Record<string, string>; body: unknown } | Error;

function harness(answers: Answer[]) {
	const clock = new FakeClock(START);
	const cancel = new AbortController();
	const sent: number[] = [];
	const pacer = new RateLimitPacer({ now: () => clock.now() });
	const ctx = {
		getNode: () => node,
		getCredentials: async () => ({ apiKey: 'sk_test_x', baseUrl: 'http://127.0.0.1:9/v1' }),
		helpers: {
			httpRequestWithAuthentication: async () => {
				sent.push(clock.now());
				const answer = answers.shift();
				if (!answer) throw new Error('no scripted answer left');
				await clock.advance(RTT_MS);
				if (answer instanceof Error) throw answer;
				return answer;
			},
		},
	} as unknown as IExecuteFunctions;
	const api = new KallglotApi(ctx, { clock, pacer, signal: cancel.signal, random: () => 0.5 });
	const request = () => api.call('createSession', [], { body: {}, idempotencyKey: 'k1' });
	/** Runs a call to its end, firing each timer it arms; the waits it made, in order. */
	const run = async <T>(call: Promise<T>) => await stepToEnd(clock, call);
	/** Resolves once the call has armed a wait (a timer on the clock). */
	const waiting = async () => {
		while (clock.pending === 0) await turn();
		return clock.delays[0];
	};
	return { request, run, waiting, sent, cancel, clock };
}

const limitHeaders = (limit: number, remaining: number, resetAtMs: number) => ({
	'x-ratelimit-limit': String(limit),
	'x-ratelimit-remaining': String(remaining),
	'x-ratelimit-reset': String(Math.ceil(resetAtMs / 1000)),
});
const refused = (retryAfter: string) => ({
	statusCode: 429,
	headers: { ...limitHeaders(5, 0, START + 1000), 'retry-after': retryAfter },
	body: { error: { code: 'rate_limit_exceeded', message: 'slow down' } },
});

test('a window with none left: the next request waits until the reset, exactly, then goes out', async () => {
	const resetAt = START + 5000; // reported 19:12:24; the window was opened by someone else
	const h = harness([
		{ statusCode: 201, headers: limitHeaders(5, 0, resetAt), body: { id: 'sess_1', status: 'created' } },
		{ statusCode: 201, headers: limitHeaders(5, 4, resetAt + 60_000), body: { id: 'sess_2', status: 'created' } },
	]);
	expect((await h.run(h.request())).waits).toEqual([]);
	const second = await h.run(h.request());
	expect(second.waits).toEqual([Math.ceil(resetAt / 1000) * 1000 - (START + RTT_MS)]);
	expect(h.sent).toEqual([START, Math.ceil(resetAt / 1000) * 1000]);
});

test('a 429: waits its Retry-After on the same clock, then retries; the parsed answer comes back', async () => {
	const h = harness([refused('2'), { statusCode: 201, headers: limitHeaders(5, 4, START + 5000), body: { id: 'sess_1', status: 'created', extra: 1 } }]);
	const { result, waits } = await h.run(h.request());
	expect(result).toEqual({ status: 'fulfilled', value: { id: 'sess_1', status: 'created', extra: 1 } });
	expect(waits).toEqual([2000]);
	expect(h.sent).toEqual([START, START + RTT_MS + 2000]);
});

test('a network error: the backoff (500 ms, then 1 s with jitter pinned) runs on the clock', async () => {
	const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
	const h = harness([reset, reset, { statusCode: 201, headers: {}, body: { id: 'sess_1', status: 'created' } }]);
	const { result, waits } = await h.run(h.request());
	expect(result.status).toBe('fulfilled');
	expect(waits).toEqual([500, 1000]);
	expect(h.sent).toEqual([START, START + RTT_MS + 500, START + 2 * RTT_MS + 1500]);
});

test('stopped during a paced wait: the wait ends at once and nothing more is sent', async () => {
	const h = harness([{ statusCode: 201, headers: limitHeaders(5, 0, START + 30_000), body: { id: 'sess_1', status: 'created' } }]);
	await h.run(h.request());
	const second = h.request();
	expect(await h.waiting()).toBeGreaterThan(20_000);
	h.cancel.abort();
	await expect(second).rejects.toThrow('Stopped: the execution was cancelled, so nothing more was sent to Kallglot');
	expect(h.sent).toEqual([START]);
	expect(h.clock.pending).toBe(0);
});

test('stopped before a request: nothing is sent', async () => {
	const h = harness([]);
	h.cancel.abort();
	await expect(h.request()).rejects.toThrow(/^Stopped/);
	expect(h.sent).toEqual([]);
});

test('stopped during a Retry-After wait: no retry', async () => {
	const h = harness([refused('30')]);
	const waiting = h.request();
	expect(await h.waiting()).toBe(30_000);
	h.cancel.abort();
	await expect(waiting).rejects.toThrow(/^Stopped/);
	expect(h.sent).toEqual([START]);
});

describe('a 429 that names its wait is waited out apart from the retries (RETRY.default.rateLimitWaitMs: 2 minutes)', () => {
	// Retry-After alone, so the waits seen are the transport's (a reset would add the pacer's).
	const refusedOnly = (retryAfter: string) => ({ ...refused(retryAfter), headers: { 'retry-after': retryAfter } });
	const created = { statusCode: 201, headers: limitHeaders(5, 4, START + 5000), body: { id: 'sess_1', status: 'created' } };

	test('more 429s than retries (another campaign took each window first): waited out, the item does not fail', async () => {
		const h = harness([refusedOnly('1'), refusedOnly('1'), refusedOnly('1'), refusedOnly('1'), refusedOnly('1'), refusedOnly('1'), created]);
		const { result, waits } = await h.run(h.request());
		expect(result.status).toBe('fulfilled');
		expect(waits).toEqual([1000, 1000, 1000, 1000, 1000, 1000]);
		expect(h.sent).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => START + i * (RTT_MS + 1000)));
	});

	test('a 429 with only X-RateLimit-Reset: waits until the reset, exactly', async () => {
		const noRetryAfter = { ...refused('1'), headers: limitHeaders(5, 0, START + 1000) };
		const h = harness([noRetryAfter, created]);
		const { result, waits } = await h.run(h.request());
		expect(result.status).toBe('fulfilled');
		const reset = Math.ceil((START + 1000) / 1000) * 1000;
		expect(waits).toEqual([reset - (START + RTT_MS)]);
		expect(h.sent).toEqual([START, reset]);
	});

	test('a key that stays limited: 2 minutes of 429 waits, then the 3 retries, then the 429 fails the item with Kallglot’s message', async () => {
		const h = harness(Array.from({ length: 8 }, () => refusedOnly('30')));
		const { result, waits } = await h.run(h.request());
		expect(result.status).toBe('rejected');
		expect(String((result as PromiseRejectedResult).reason.message)).toMatch(/slow down/);
		// 4 × 30 s fill the 2 minutes; the 3 retries wait 30 s each too.
		expect(waits).toEqual(Array.from({ length: 7 }, () => 30_000));
		expect(h.sent).toHaveLength(8);
	});

	test('a Retry-After of 0 counts as 500 ms (the base delay): 240 quick 429s at most, then the retries', async () => {
		const h = harness(Array.from({ length: 244 }, () => refusedOnly('0')));
		const { result, waits } = await h.run(h.request());
		expect(result.status).toBe('rejected');
		expect(waits).toEqual(Array.from({ length: 243 }, () => 0));
		expect(h.sent).toHaveLength(244);
	});

	test('stopped during a 429 wait beyond the retries: the wait ends at once, nothing more is sent', async () => {
		const h = harness([refusedOnly('1'), refusedOnly('1'), refusedOnly('1'), refusedOnly('1'), refusedOnly('1')]);
		const call = h.request();
		for (let i = 0; i < 4; i++) {
			expect(await h.waiting()).toBe(1000);
			await h.clock.fireNext();
		}
		expect(await h.waiting()).toBe(1000);
		h.cancel.abort();
		await expect(call).rejects.toThrow(/^Stopped/);
		expect(h.sent).toHaveLength(5);
		expect(h.clock.pending).toBe(0);
	});
});
