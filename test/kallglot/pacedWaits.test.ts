/**
 * The transport's pace → send → classify → wait path on a fake clock: every wait goes through the
 * pacer's injected sleep with the execution's cancel signal, so the exact waits are seen, and a
 * stop ends a wait at once with nothing more sent. Kallglot's answers are scripted (the only
 * stand-in here is the Kallglot cloud itself); the context is the part of n8n's the transport uses.
 */
import type { IExecuteFunctions, INode } from 'n8n-workflow';

import { RateLimitPacer, type Sleep } from '../../nodes/shared/rateLimit';
import { kallglotApiRequest } from '../../nodes/shared/transport';

const START = Date.UTC(2026, 11, 1, 19, 12, 18, 437);
const node: INode = { id: '1', name: 'Kallglot', type: 'n8n-nodes-kallglot.kallglot', typeVersion: 1, position: [0, 0], parameters: {} };

type Answer = { statusCode: number; headers: Record<string, string>; body: unknown };

function harness(answers: Answer[]) {
	let now = START;
	const cancel = new AbortController();
	const sent: number[] = [];
	const waits: number[] = [];
	/** Sleeps on the fake clock; a wait of `blockMs` or more blocks until the signal aborts. */
	let blockMs = Infinity;
	const sleep: Sleep = async (ms, signal) => {
		waits.push(ms);
		if (ms >= blockMs) {
			await new Promise<void>((_resolve, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
		}
		now += ms;
	};
	const pacer = new RateLimitPacer({ now: () => now, sleep });
	const ctx = {
		getNode: () => node,
		getCredentials: async () => ({ apiKey: 'sk_test_x', baseUrl: 'http://127.0.0.1:9/v1' }),
		getExecutionCancelSignal: () => cancel.signal,
		helpers: {
			httpRequestWithAuthentication: async () => {
				sent.push(now);
				const answer = answers.shift();
				if (!answer) throw new Error('no scripted answer left');
				now += 2;
				return answer;
			},
		},
	} as unknown as IExecuteFunctions;
	const request = () => kallglotApiRequest.call(ctx, { method: 'POST', path: '/sessions', body: {}, pacer });
	return { request, sent, waits, cancel, pacer, block: (ms: number) => (blockMs = ms), now: () => now };
}

const limitHeaders = (limit: number, remaining: number, resetAtMs: number) => ({
	'x-ratelimit-limit': String(limit),
	'x-ratelimit-remaining': String(remaining),
	'x-ratelimit-reset': String(Math.ceil(resetAtMs / 1000)),
});

test('a window with none left: the next request waits until the reset, exactly, then goes out', async () => {
	const resetAt = START + 5000; // reported 19:12:24; the window was opened by someone else
	const h = harness([
		{ statusCode: 201, headers: limitHeaders(5, 0, resetAt), body: { id: 'sess_1' } },
		{ statusCode: 201, headers: limitHeaders(5, 4, resetAt + 60_000), body: { id: 'sess_2' } },
	]);
	await h.request();
	await h.request();
	expect(h.waits).toEqual([Math.ceil(resetAt / 1000) * 1000 - (START + 2)]);
	expect(h.sent).toEqual([START, Math.ceil(resetAt / 1000) * 1000]);
});

test('a 429: waits its Retry-After on the same clock, then retries', async () => {
	const h = harness([
		{ statusCode: 429, headers: { ...limitHeaders(5, 0, START + 1000), 'retry-after': '2' }, body: { error: { code: 'rate_limit_exceeded', message: 'slow down' } } },
		{ statusCode: 201, headers: limitHeaders(5, 4, START + 5000), body: { id: 'sess_1' } },
	]);
	await expect(h.request()).resolves.toEqual({ id: 'sess_1' });
	expect(h.waits).toEqual([2000]);
	expect(h.sent).toEqual([START, START + 2002]);
});

test('stopped during a paced wait: the wait ends at once and nothing more is sent', async () => {
	const h = harness([{ statusCode: 201, headers: limitHeaders(5, 0, START + 30_000), body: { id: 'sess_1' } }]);
	await h.request();
	h.block(1000);
	const waiting = h.request();
	while (h.waits.length === 0) await new Promise((resolve) => setImmediate(resolve));
	h.cancel.abort();
	await expect(waiting).rejects.toThrow('Stopped: the execution was cancelled, so nothing more was sent to Kallglot');
	expect(h.sent).toEqual([START]);
});

test('stopped before a request: nothing is sent', async () => {
	const h = harness([]);
	h.cancel.abort();
	await expect(h.request()).rejects.toThrow(/^Stopped/);
	expect(h.sent).toEqual([]);
});

test('stopped during a Retry-After wait: no retry', async () => {
	const h = harness([
		{ statusCode: 429, headers: { ...limitHeaders(5, 0, START + 1000), 'retry-after': '30' }, body: { error: { code: 'rate_limit_exceeded', message: 'slow down' } } },
	]);
	h.block(1000);
	const waiting = h.request();
	while (h.waits.length === 0) await new Promise((resolve) => setImmediate(resolve));
	h.cancel.abort();
	await expect(waiting).rejects.toThrow(/^Stopped/);
	expect(h.sent).toEqual([START]);
});
