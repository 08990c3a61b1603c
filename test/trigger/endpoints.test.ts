/**
 * The trigger's token/endpoint cache (SessionEndpoints) alone, on a fake clock with a scripted
 * API: the first token once, a fresh GET per later attempt, answers reused for 1 s, the last
 * token once more while the session shows no stream, and what each failure means to the client.
 */
import { SESSION_CACHE_MS, SessionEndpoints, TOKEN_MARGIN_MS } from '../../nodes/KallglotTrigger/endpoints';
import { RateLimitWait, SessionApiError } from '../../nodes/KallglotTrigger/sessionErrors';
import type { SessionResponse } from '../../nodes/shared/wire';
import { FakeClock } from '../helpers/clock';

const clock = new FakeClock(Date.UTC(2026, 11, 7, 12));
const stream = (token: string, validMs = 300_000) => ({
	url: 'wss://stream.example/v1/sessions/sess_1/stream',
	token,
	expires_at: new Date(clock.now() + validMs).toISOString(),
});
const live = (token: string, validMs?: number): SessionResponse => ({ id: 'sess_1', status: 'active', stream: stream(token, validMs) });
const notLive: SessionResponse = { id: 'sess_1', status: 'created', stream: null };

/** An API whose GETs answer from `answers` in turn (an Error is thrown). */
function scripted(answers: Array<SessionResponse | Error>) {
	const gets: number[] = [];
	return {
		gets,
		api: {
			get: async () => {
				gets.push(clock.now());
				const next = answers.shift();
				if (!next) throw new Error('no more answers');
				if (next instanceof Error) throw next;
				return next;
			},
		},
	};
}

test('the session’s own token serves the first attempt only; each later attempt GETs a fresh one', async () => {
	const { api, gets } = scripted([live('tok_2'), live('tok_3')]);
	const endpoints = new SessionEndpoints(live('tok_1'), api, clock);
	expect(await endpoints.resolve()).toMatchObject({ kind: 'live', endpoint: { token: 'tok_1' } });
	expect(gets).toHaveLength(0);
	expect(await endpoints.resolve()).toMatchObject({ kind: 'live', endpoint: { token: 'tok_2' } });
	// A token is used once per GET: the very next attempt asks again, cache or not.
	expect(await endpoints.resolve()).toMatchObject({ kind: 'live', endpoint: { token: 'tok_3' } });
	expect(gets).toHaveLength(2);
});

test('a session not live yet: its creation answer serves polls for exactly 1 s, then one GET per second', async () => {
	const { api, gets } = scripted([notLive, notLive]);
	const endpoints = new SessionEndpoints(notLive, api, clock);
	expect(await endpoints.resolve()).toEqual({ kind: 'waiting' });
	await clock.advance(SESSION_CACHE_MS - 1);
	expect(await endpoints.resolve()).toEqual({ kind: 'waiting' });
	expect(gets).toHaveLength(0);
	await clock.advance(1);
	expect(await endpoints.resolve()).toEqual({ kind: 'waiting' });
	expect(await endpoints.resolve()).toEqual({ kind: 'waiting' });
	expect(gets).toHaveLength(1);
	await clock.advance(SESSION_CACHE_MS);
	await endpoints.resolve();
	expect(gets).toHaveLength(2);
});

test('no stream right now: the last token once more while it has more than 15 s left, then wait', async () => {
	const { api } = scripted([notLive, notLive]);
	const endpoints = new SessionEndpoints(live('tok_1', TOKEN_MARGIN_MS + 1), api, clock);
	await endpoints.resolve();
	expect(await endpoints.resolve()).toMatchObject({ kind: 'live', endpoint: { token: 'tok_1' } });
	await clock.advance(SESSION_CACHE_MS);
	expect(await endpoints.resolve()).toEqual({ kind: 'waiting' });
});

test('a kept token with 15 s or less left is not reused', async () => {
	const { api } = scripted([notLive]);
	const endpoints = new SessionEndpoints(live('tok_1', TOKEN_MARGIN_MS), api, clock);
	await endpoints.resolve();
	expect(await endpoints.resolve()).toEqual({ kind: 'waiting' });
});

test('ended (with Kallglot’s reason) and 404 end the stream; 429 and a rate-limit wait are waits; 401/403 are permanent', async () => {
	const cases: Array<[SessionResponse | Error, unknown]> = [
		[{ id: 'sess_1', status: 'ended', end_reason: 'hangup' }, { kind: 'ended', reason: 'hangup' }],
		[new SessionApiError('gone', 404), { kind: 'ended', reason: null }],
		[new SessionApiError('slow down', 429, undefined, 3000), { kind: 'waiting', retryAfterMs: 3000 }],
		[new RateLimitWait('window used up', 18_000), { kind: 'waiting', retryAfterMs: 18_000 }],
	];
	for (const [answer, expected] of cases) {
		const endpoints = new SessionEndpoints(notLive, scripted([answer]).api, clock);
		await clock.advance(SESSION_CACHE_MS);
		expect(await endpoints.resolve()).toEqual(expected);
	}
	for (const [status, permanent] of [
		[401, true],
		[403, true],
		[500, false],
		[null, false],
	] as const) {
		const endpoints = new SessionEndpoints(notLive, scripted([new SessionApiError('no', status)]).api, clock);
		await clock.advance(SESSION_CACHE_MS);
		await expect(endpoints.resolve()).rejects.toMatchObject({ message: 'no', permanent });
	}
});
