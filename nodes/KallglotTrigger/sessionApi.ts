import type { IDataObject, ITriggerFunctions } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { resolveIdempotencyKey } from '../shared/fields/idempotency';
import { RateLimitPacer } from '../shared/rateLimit';
import { kallglotApiRequest, type KallglotRequest, type RetryPolicy } from '../shared/transport';
import { paths, sessionResponse, type SessionResponse } from '../shared/wire';
import { RateLimitWait, SessionApiError, type SessionApi } from './sessionErrors';

/**
 * A token fetch runs within the stream client's 10 s connect timeout: only short waits happen
 * inside it (a paced wait or a Retry-After of up to 3 s each, at most 6 s in all); a longer one
 * comes back to the listener, which waits it out between polls.
 */
const POLL_RETRY: RetryPolicy = { maxRetries: 2, baseDelayMs: 500, maxDelayMs: 3000, maxTotalDelayMs: 6000 };

/**
 * Kallglot calls for the listener, with n8n's errors reduced to status + message. Every call of
 * one trigger instance paces on what the earlier answers said about the rate limit (one pacer,
 * which holds no timers: nothing to clear at close).
 */
export function sessionApi(ctx: ITriggerFunctions, createBody: () => IDataObject): SessionApi {
	const pacer = new RateLimitPacer();
	const call = async (request: KallglotRequest, policy?: RetryPolicy): Promise<IDataObject> => {
		try {
			return await kallglotApiRequest.call(ctx, { ...request, pacer }, policy);
		} catch (error) {
			if (error instanceof NodeApiError && error.context.paced === true) {
				throw new RateLimitWait(error.message, Number(error.context.retryAfterMs));
			}
			if (error instanceof NodeApiError) {
				const retryAfterMs = Number(error.context.retryAfterMs);
				throw new SessionApiError(
					error.message,
					error.httpCode ? Number(error.httpCode) : null,
					error.description ?? undefined,
					Number.isFinite(retryAfterMs) ? retryAfterMs : undefined,
				);
			}
			if (error instanceof NodeOperationError) throw new SessionApiError(error.message, null, error.description ?? undefined);
			throw error;
		}
	};
	const session = (body: IDataObject): SessionResponse => sessionResponse.parse(body);
	return {
		// A new key per session: each activation and each "next session" is a new session.
		create: async (signal) =>
			session(
				await call({
					method: 'POST',
					path: paths.sessions,
					body: createBody(),
					idempotencyKey: resolveIdempotencyKey(''),
					scope: 'sessions:write',
					signal,
				}),
			),
		get: async (id, signal, poll) =>
			session(await call({ method: 'GET', path: paths.session(id), scope: 'sessions:read', signal }, poll ? POLL_RETRY : undefined)),
		end: async (id) => {
			await call(
				{ method: 'POST', path: paths.endSession(id), idempotencyKey: resolveIdempotencyKey(''), scope: 'sessions:write' },
				{ maxRetries: 1, baseDelayMs: 250, maxDelayMs: 1000 },
			);
		},
	};
}
