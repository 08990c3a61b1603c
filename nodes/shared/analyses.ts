/**
 * Post-call analysis calls shared by the action node (Analysis → Create / Get) and the webhook
 * trigger: request one (billable, idempotent), read one, and wait — bounded — for it to finish.
 */
import type { IDataObject } from 'n8n-workflow';
import { NodeApiError, sleepWithAbort } from 'n8n-workflow';

import { asNodeError } from './nodeError';
import type { CallOptions } from './recordings';
import { DEFAULT_RETRY, kallglotApiRequest, type KallglotContext, type RetryPolicy } from './transport';
import { analysisResponse, postCallPaths, type AnalysisResponse } from './wire';

export type Analysis = IDataObject & AnalysisResponse;

/** `POST /v1/sessions/{id}/analysis`: 202 with the analysis still processing; costs 1 credit. */
export async function createAnalysis(
	this: KallglotContext,
	sessionId: string,
	body: IDataObject,
	idempotencyKey: string,
	options: CallOptions = {},
): Promise<Analysis> {
	const answer = await kallglotApiRequest.call(this, {
		method: 'POST',
		path: postCallPaths.createAnalysis(sessionId),
		body,
		idempotencyKey,
		scope: 'analysis:read',
		...options,
	});
	return analysisResponse.parse(answer) as Analysis;
}

export async function getAnalysis(
	this: KallglotContext,
	analysisId: string,
	options: CallOptions = {},
	policy: RetryPolicy = DEFAULT_RETRY,
): Promise<Analysis> {
	const answer = await kallglotApiRequest.call(
		this,
		{ method: 'GET', path: postCallPaths.analysis(analysisId), scope: 'analysis:read', ...options },
		policy,
	);
	return analysisResponse.parse(answer) as Analysis;
}

/** Only these end a wait; any other status (processing, or one added later) keeps polling. */
export const isFinalAnalysis = (analysis: Analysis) => analysis.status === 'completed' || analysis.status === 'failed';

export interface PollSchedule {
	/** The first poll comes this long after the create. */
	firstDelayMs: number;
	/** Each pause is this much longer than the one before... */
	factor: number;
	/** ...up to this. */
	maxDelayMs: number;
}

/** About 1, 2.5, 4.75, 8.1, 13.2, 15, 15… s: quick for a short analysis, gentle on the rate limit. */
export const DEFAULT_POLL: PollSchedule = { firstDelayMs: 1_000, factor: 1.5, maxDelayMs: 15_000 };

/** The pause before poll number `attempt` (0-based), never past the time that is left. */
export function pollDelayMs(attempt: number, remainingMs: number, schedule: PollSchedule = DEFAULT_POLL): number {
	const delay = Math.min(schedule.maxDelayMs, schedule.firstDelayMs * schedule.factor ** attempt);
	return Math.max(0, Math.min(delay, remainingMs));
}

export interface WaitOptions extends CallOptions {
	/** The wait ends by this time; the last poll is made when it is reached. */
	maxWaitMs: number;
	schedule?: PollSchedule;
}

export interface WaitOutcome {
	/** The last state seen: completed or failed, or still processing when the wait ran out. */
	analysis: Analysis;
	timedOut: boolean;
	/** How many times the analysis was fetched. */
	polls: number;
	/** Set when the wait ended on Kallglot's rate limit (its Retry-After reached past the deadline). */
	rateLimited?: boolean;
}

/**
 * Polls `GET /v1/analyses/{id}` with growing pauses until the analysis is final or `maxWaitMs`
 * has passed. Never a tight loop: every poll is preceded by a pause of at least the schedule's
 * first delay (or what is left of the wait). Rate limits are honoured by the transport, which
 * waits out Retry-After; a Retry-After beyond the deadline ends the wait instead.
 */
export async function waitForAnalysis(
	this: KallglotContext,
	analysis: Analysis,
	options: WaitOptions,
): Promise<WaitOutcome> {
	const deadline = Date.now() + options.maxWaitMs;
	let current = analysis;
	let polls = 0;
	while (!isFinalAnalysis(current)) {
		const remaining = deadline - Date.now();
		if (remaining <= 0) return { analysis: current, timedOut: true, polls };
		await sleepWithAbort(pollDelayMs(polls, remaining, options.schedule), options.signal);
		// A rate-limit pause may use what is left of the wait, no more: a longer Retry-After
		// fails the poll with a 429, which ends the wait below.
		const policy = { ...DEFAULT_RETRY, maxDelayMs: Math.min(DEFAULT_RETRY.maxDelayMs, Math.max(0, deadline - Date.now())) };
		try {
			current = await getAnalysis.call(this, current.id, options, policy);
		} catch (error) {
			if (error instanceof NodeApiError && error.httpCode === '429') {
				return { analysis: current, timedOut: true, polls: polls + 1, rateLimited: true };
			}
			throw asNodeError(this.getNode(), error, options.itemIndex);
		}
		polls++;
	}
	return { analysis: current, timedOut: false, polls };
}
