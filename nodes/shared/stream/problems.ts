/** Frames the client skips, by kind: each one is counted and reported, never parsed further. */
export const PROBLEM_KINDS = ['invalid_json', 'schema', 'oversized', 'binary'] as const;
export type StreamProblemKind = (typeof PROBLEM_KINDS)[number];

export interface StreamProblem {
	kind: StreamProblemKind;
	/** How many frames of this kind were skipped so far (this one included). */
	count: number;
	/** What was wrong; never the frame's content. */
	detail: string;
}
