/**
 * Recordings on the wire: the recording ID rule, Recording → Download's input, the recording and
 * list we read, the list's cursor, and the error codes of the audio endpoint.
 */
import { z } from 'zod';

import { compact } from './values';

export const recordingId = z
	.string()
	.trim()
	.regex(/^rec_\w+$/, 'must be a recording id starting with rec_ (e.g. rec_01HXYZ): take it from Recording → Get Many');

const RECORDING_CHANNELS = ['agent', 'customer', 'mixed'] as const;
const RECORDING_STATUSES = ['processing', 'ready', 'failed'] as const;

/** Error codes of the recording audio endpoint [ours: Kallglot names these two cases, not their codes]. */
export const recordingErrorCodes = {
	notReady: 'recording_not_ready',
	consentRequired: 'recording_consent_required',
} as const;

export const recordingRef = z.object({ recordingId });

/** The n8n binary property a download is written to. */
const binaryPropertyName = z
	.string()
	.trim()
	.min(1, 'must name the binary property to write the file to (e.g. data)')
	.regex(/^[^\s.]+$/, 'must be one word without spaces or dots (e.g. data or recording)');
export const downloadRecordingInput = z.object({ recordingId, binaryPropertyName });

export const recordingResponse = z
	.object({
		id: z.string(),
		session_id: z.string().nullish(),
		channel: z.enum(RECORDING_CHANNELS).or(z.string()).nullish(),
		status: z.enum(RECORDING_STATUSES).or(z.string()),
		format: z.string().nullish(),
		download_url: z.string().nullish(),
		error: z.unknown().optional(),
	})
	.passthrough();
export type RecordingResponse = z.infer<typeof recordingResponse>;

export const recordingListResponse = z
	.object({ data: z.array(recordingResponse), has_more: z.boolean().nullish() })
	.passthrough();

/** `starting_after` cursor, as for agents [ours: Kallglot does not say whether the recordings list pages]. */
export const recordingListQuery = (startingAfter?: string) =>
	compact({ starting_after: startingAfter }) as Record<string, string> | undefined;

