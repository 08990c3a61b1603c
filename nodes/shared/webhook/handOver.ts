/**
 * When n8n has taken an execution: it answers a delivery that returned `workflowData` only after
 * it has created (and in queue mode enqueued) the execution, and answers an error if that failed.
 * So the answer it writes is the hand-over signal. Watched on the response object itself, so a
 * caller that hung up early (its answer lost) still counts: n8n writes into the closed response,
 * and that is seen by polling, for at most `waitMs`. Plain TypeScript, no n8n.
 */
export interface WatchedResponse {
	readonly writableEnded: boolean;
	readonly statusCode: number;
	once(event: 'finish' | 'close', listener: () => void): unknown;
}

export interface AnswerWatch {
	/** How long to wait for an answer after the caller left. */
	waitMs: number;
	pollMs: number;
	sleep: (ms: number) => Promise<void>;
}

/** The status n8n answered with; null when the caller left and nothing was written within waitMs. */
export async function answeredStatus(response: WatchedResponse, watch: AnswerWatch): Promise<number | null> {
	if (response.writableEnded) return response.statusCode;
	const ended = await new Promise<boolean>((resolve) => {
		response.once('finish', () => resolve(true));
		response.once('close', () => resolve(response.writableEnded));
	});
	if (ended) return response.statusCode;
	for (let waited = 0; waited < watch.waitMs; waited += watch.pollMs) {
		await watch.sleep(watch.pollMs);
		if (response.writableEnded) return response.statusCode;
	}
	return null;
}

export const isSuccess = (status: number | null): boolean => status !== null && status >= 200 && status < 300;
