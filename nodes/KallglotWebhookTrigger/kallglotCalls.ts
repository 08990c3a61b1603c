/**
 * The Kallglot calls of the webhook trigger, in one place: the session lookup that fills an
 * item's metadata, and the enrichment on request (full transcript, recording audio, analysis)
 * through the calls the action node uses too. All of it happens before n8n answers the delivery
 * (Kallglot waits 30 s): the lookup within LOOKUP_TIMEOUT_MS, the enrichment within its budget
 * (DEFAULT_ENRICHMENT_BUDGET_MS). Enrichment failures become `enrichmentError`.
 */
import type { IBinaryData, IDataObject, IWebhookFunctions } from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

import { KallglotApi } from '../shared/api';
import { systemClock } from '../shared/clock';
import { downloadRecordingAudio, recordingBinary } from '../shared/recordings';
import { redactSecrets } from '../shared/redact';

export const LOOKUP_TIMEOUT_MS = 8_000;
/** Lookup (8 s) + enrichment (15 s) + hand-over stay well inside Kallglot's 30 s. */
export const DEFAULT_ENRICHMENT_BUDGET_MS = 15_000;
export const MAX_ENRICHMENT_BUDGET_MS = 20_000;

export interface EnrichmentError {
	code: string;
	message: string;
}

/** The client of one delivery: a delivery makes a call or two, so it needs no pacer. */
export const webhookApi = (ctx: IWebhookFunctions): KallglotApi => new KallglotApi(ctx, { clock: systemClock });

export async function lookUpSession(api: KallglotApi, sessionId: string): Promise<IDataObject> {
	return await api.call('getSession', [sessionId], { retry: 'webhookLookup', signal: AbortSignal.timeout(LOOKUP_TIMEOUT_MS) });
}

/** Kallglot does not know the session (404): not an outage, the event runs without its metadata. */
export const isNotFound = (error: unknown): boolean => error instanceof NodeApiError && String(error.httpCode) === '404';

/** code + message of any failure, with nothing secret in it. */
export function enrichmentError(error: unknown): EnrichmentError {
	if (error instanceof NodeApiError) {
		const code = (error.errorResponse?.error as IDataObject | undefined)?.code;
		return {
			code: typeof code === 'string' ? code : error.httpCode ? `http_${error.httpCode}` : 'request_failed',
			message: redactSecrets(error.message),
		};
	}
	const message = error instanceof Error ? error.message : String(error);
	return { code: 'enrichment_failed', message: redactSecrets(message) };
}

export async function fetchTranscript(api: KallglotApi, sessionId: string, signal: AbortSignal): Promise<IDataObject> {
	return await api.call('getTranscript', [sessionId], { retry: 'webhookEnrich', signal });
}

export async function fetchAnalysis(api: KallglotApi, analysisId: string, signal: AbortSignal): Promise<IDataObject> {
	return await api.call('getAnalysis', [analysisId], { retry: 'webhookEnrich', signal });
}

/**
 * n8n 2.8's filesystem binary mode keeps a webhook's files in ONE temp folder per workflow until
 * the execution exists, and the first execution to finish deletes that whole folder: two
 * recordings arriving together (one per channel) would lose each other's file.
 */
const SHARED_WEBHOOK_TEMP = /^filesystem(-v2)?:.*\/executions\/temp\//;

/** The event's recording object names the file; its audio becomes n8n binary data. */
export async function recordingFile(
	ctx: IWebhookFunctions,
	api: KallglotApi,
	recording: IDataObject & { id: string },
	signal: AbortSignal,
): Promise<IBinaryData> {
	const file = await downloadRecordingAudio(api, recording, { signal });
	const binary = await recordingBinary.call(ctx, file);
	if (!binary.id || !SHARED_WEBHOOK_TEMP.test(binary.id)) return binary;
	// There, the file travels inside the item instead (as in n8n's in-memory mode).
	const inline: IBinaryData = { ...binary, data: file.data.toString('base64') };
	delete inline.id;
	return inline;
}
