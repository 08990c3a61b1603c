/** Time as the uploader sees it: injected, so pacing and waits can be tested step by step. */
export interface Clock {
	/** Milliseconds on a monotonic scale. */
	now(): number;
	/** Resolves after `ms`, or rejects when `signal` aborts. */
	sleep(ms: number, signal?: AbortSignal): Promise<void>;
}
