/** Analyses on the wire: the analysis ID rule, Analysis → Create's input and body, the analysis we read. */
import { z } from 'zod';

import { commaList } from '../commaList';
import { sessionId } from './session';
import { compact } from './values';

export const analysisId = z
	.string()
	.trim()
	.regex(/^anl_\w+$/, 'must be an analysis id starting with anl_ (e.g. anl_01HXYZ): take it from Analysis → Create');

const ANALYSIS_STATUSES = ['processing', 'completed', 'failed'] as const;
export const ANALYSIS_INCLUDES = ['summary', 'sentiment', 'compliance', 'keywords', 'performance'] as const;

export const analysisRef = z.object({ analysisId });

export const createAnalysisInput = z.object({
	sessionId,
	profile: z.string().trim().min(1, 'must not be empty: leave it at "default" or name a profile set up in Kallglot').optional(),
	// An expression (or an AI tool call) may give "summary, sentiment" instead of a list.
	include: z
		.preprocess(
			(value) => (typeof value === 'string' ? commaList(value) : value),
			z.array(z.enum(ANALYSIS_INCLUDES)),
		)
		.optional(),
});
type CreateAnalysisInput = z.infer<typeof createAnalysisInput>;

/** The body of `POST /v1/sessions/{id}/analysis`; an empty include sends Kallglot's default set. */
export const toCreateAnalysisBody = (input: CreateAnalysisInput): Record<string, unknown> =>
	compact({ profile: input.profile, include: input.include?.length ? input.include : undefined }) ?? {};

export const analysisResponse = z
	.object({
		id: z.string(),
		session_id: z.string().nullish(),
		status: z.enum(ANALYSIS_STATUSES).or(z.string()),
		error: z.unknown().optional(),
	})
	.passthrough();
export type AnalysisResponse = z.infer<typeof analysisResponse>;
