/**
 * Transcripts on the wire: a turn's translation (as the stream, the transcript endpoint and the
 * transcript.segment webhook send it) and the transcript we read from GET /v1/sessions/{id}/transcript.
 */
import { z } from 'zod';

export const translationWire = z
	.union([z.object({ language: z.string().nullish(), text: z.string() }).passthrough(), z.string()])
	.nullish();

export interface Translation {
	language: string | null;
	text: string;
}

export function normalizeTranslation(value: z.infer<typeof translationWire>): Translation | null {
	if (value === null || value === undefined) return null;
	if (typeof value === 'string') return value === '' ? null : { language: null, text: value };
	return { language: value.language ?? null, text: value.text };
}

/** GET /v1/sessions/{id}/transcript: the fields read from it. */
export const transcriptResponse = z
	.object({
		status: z.string().nullish(),
		turns: z.array(
			z
				.object({
					sequence: z.number().nullish(),
					speaker: z.string(),
					language: z.string().nullish(),
					text: z.string(),
					translation: translationWire,
					timestamp: z.string().nullish(),
				})
				.passthrough(),
		),
		metadata: z
			.object({ duration_seconds: z.number().nullish(), languages_detected: z.array(z.string()).nullish() })
			.passthrough()
			.nullish(),
	})
	.passthrough();
