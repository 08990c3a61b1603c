import type { IDataObject, ITriggerFunctions } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { KallglotApi } from '../shared/api';
import type { Clock } from '../shared/clock';
import { resolveIdempotencyKey } from '../shared/fields/idempotency';
import { RateLimitPacer } from '../shared/rateLimit';
import { RateLimitWait, SessionApiError, type SessionApi } from './sessionErrors';

/** n8n's error of a failed call, reduced to what the listener needs to decide. */
function reduced(error: unknown): unknown {
	if (error instanceof NodeApiError && error.context.paced === true) {
		return new RateLimitWait(error.message, Number(error.context.retryAfterMs));
	}
	if (error instanceof NodeApiError) {
		const retryAfterMs = Number(error.context.retryAfterMs);
		return new SessionApiError(
			error.message,
			error.httpCode ? Number(error.httpCode) : null,
			error.description ?? undefined,
			Number.isFinite(retryAfterMs) ? retryAfterMs : undefined,
		);
	}
	if (error instanceof NodeOperationError) return new SessionApiError(error.message, null, error.description ?? undefined);
	return error;
}

/**
 * Kallglot calls for the listener, with n8n's errors reduced to status + message. One client per
 * trigger instance: its waits run on the trigger's clock, and every call paces on what the earlier
 * answers said about the rate limit (one pacer, which holds no timers: nothing to clear at close).
 */
export function sessionApi(ctx: ITriggerFunctions, createBody: () => IDataObject, clock: Clock): SessionApi {
	const api = new KallglotApi(ctx, { clock, pacer: new RateLimitPacer({ now: () => clock.now() }) });
	const reducing = async <T>(call: Promise<T>): Promise<T> => {
		try {
			return await call;
		} catch (error) {
			throw reduced(error);
		}
	};
	return {
		// A new key per session: each activation and each "next session" is a new session.
		create: async (signal) =>
			await reducing(api.call('createSession', [], { body: createBody(), idempotencyKey: resolveIdempotencyKey(''), signal })),
		// A poll's long waits come back to the listener, which waits them out between polls.
		get: async (id, signal, poll) => await reducing(api.call('getSession', [id], { signal, retry: poll ? 'triggerPoll' : undefined })),
		end: async (id) => {
			await reducing(api.call('endSession', [id], { idempotencyKey: resolveIdempotencyKey(''), retry: 'triggerEnd' }));
		},
	};
}
