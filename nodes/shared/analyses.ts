/**
 * Post-call analyses for the action node (Analysis → Create with Wait for Completion): wait —
 * bounded, on the client's clock — for one to finish.
 */
import { NodeApiError } from 'n8n-workflow';

import type { CallOptions, KallglotApi, ResponseOf } from './api';
import { asNodeError } from './nodeError';

export type Analysis = ResponseOf<'getAnalysis'>;

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
export async function waitForAnalysis(api: KallglotApi, analysis: Analysis, options: WaitOptions): Promise<WaitOutcome> {
	const { clock } = api;
	const deadline = clock.now() + options.maxWaitMs;
	let current = analysis;
	let polls = 0;
	while (!isFinalAnalysis(current)) {
		const remaining = deadline - clock.now();
		if (remaining <= 0) return { analysis: current, timedOut: true, polls };
		// A stop ends the pause; the poll after it then sends nothing.
		await api.pause(pollDelayMs(polls, remaining, options.schedule), options.signal);
		try {
			// A rate-limit pause may use what is left of the wait, no more: a longer Retry-After
			// fails the poll with a 429, which ends the wait below.
			current = await api.call('getAnalysis', [current.id], {
				itemIndex: options.itemIndex,
				signal: options.signal,
				maxDelayMs: Math.max(0, deadline - clock.now()),
			});
		} catch (error) {
			if (error instanceof NodeApiError && error.httpCode === '429') {
				return { analysis: current, timedOut: true, polls: polls + 1, rateLimited: true };
			}
			throw asNodeError(api.node, error, options.itemIndex);
		}
		polls++;
	}
	return { analysis: current, timedOut: false, polls };
}
