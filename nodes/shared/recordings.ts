/**
 * Recordings for the action node (Recording → Get / Download) and the webhook trigger's
 * recording.ready enrichment: the readiness check, and the audio as bytes with the file name and
 * MIME type an n8n binary property needs.
 */
import type { IBinaryData, IExecuteFunctions, INode, IWebhookFunctions } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { codeGuidance, type CallOptions, type KallglotApi, type ResponseOf } from './api';
import { headers, recordingErrorCodes, type RecordingResponse } from './wire';

export type Recording = ResponseOf<'getRecording'>;

/** The audio of one recording, ready for `helpers.prepareBinaryData`. */
export interface RecordingFile {
	data: Buffer;
	fileName: string;
	mimeType: string;
}

/**
 * Throws unless the recording's metadata says its file can be fetched: still processing and
 * failed recordings get an error that says so and what to do, before any download is tried.
 */
export function assertRecordingReady(node: INode, recording: Recording, itemIndex?: number): void {
	if (recording.status === 'ready') return;
	if (recording.status === 'failed') {
		const reason = errorText(recording.error);
		throw new NodeOperationError(node, `Kallglot recording ${recording.id} failed${reason ? `: ${reason}` : ''}`, {
			itemIndex,
			description: 'Kallglot could not produce this recording, so there is no file to download. Check the session in the Kallglot portal.',
		});
	}
	const code = recordingErrorCodes.notReady;
	throw new NodeApiError(
		node,
		{ error: { code, message: `Recording ${recording.id} is ${recording.status}`, status: recording.status } },
		{
			message: `Kallglot recording ${recording.id} is not ready yet (status "${recording.status}")`,
			description: codeGuidance(code),
			itemIndex,
		},
	);
}

/** The audio bytes, without a metadata check (the webhook trigger already holds the object). */
export async function downloadRecordingAudio(
	api: KallglotApi,
	recording: Pick<RecordingResponse, 'id'> & Partial<RecordingResponse>,
	options: CallOptions = {},
): Promise<RecordingFile> {
	const response = await api.call('getRecordingAudio', [recording.id], options);
	const mimeType = mimeTypeOf(response.headers[headers.contentType], recording.format);
	const fileName =
		fileNameFromContentDisposition(response.headers[headers.contentDisposition]) ??
		`recording-${recording.session_id ?? recording.id}${recording.channel ? `-${recording.channel}` : ''}.${extensionOf(mimeType, recording.format)}`;
	return { data: response.data, fileName, mimeType };
}

/** Metadata first (a clear error while it is processing or failed), then the audio. */
export async function downloadRecording(
	api: KallglotApi,
	recordingId: string,
	options: CallOptions = {},
): Promise<{ recording: Recording; file: RecordingFile }> {
	const recording = await api.call('getRecording', [recordingId], options);
	assertRecordingReady(api.node, recording, options.itemIndex);
	return { recording, file: await downloadRecordingAudio(api, recording, options) };
}

/** The file as n8n binary data (stored by n8n's binary data manager, not held in the item). */
export async function recordingBinary(
	this: IExecuteFunctions | IWebhookFunctions,
	file: RecordingFile,
): Promise<IBinaryData> {
	return await this.helpers.prepareBinaryData(file.data, file.fileName, file.mimeType);
}

// ---------------------------------------------------------------------------------------------
// Header parsing

const MIME_BY_FORMAT: Record<string, string> = { wav: 'audio/wav', mp3: 'audio/mpeg' };
const EXTENSION_BY_MIME: Record<string, string> = {
	'audio/wav': 'wav',
	'audio/x-wav': 'wav',
	'audio/wave': 'wav',
	'audio/mpeg': 'mp3',
	'audio/mp3': 'mp3',
};

/** Content-Type without parameters; else from the recording's format; else octet-stream. */
export function mimeTypeOf(contentType: string | undefined, format?: string | null): string {
	const type = contentType?.split(';')[0].trim().toLowerCase();
	if (type && /^[\w.+-]+\/[\w.+-]+$/.test(type)) return type;
	return (format && MIME_BY_FORMAT[format.toLowerCase()]) || 'application/octet-stream';
}

function extensionOf(mimeType: string, format?: string | null): string {
	return EXTENSION_BY_MIME[mimeType] ?? (format && /^\w+$/.test(format) ? format.toLowerCase() : 'bin');
}

/**
 * The file name of `Content-Disposition` (RFC 6266): `filename*=UTF-8''…` wins over `filename=`.
 * Directory parts are dropped, so a name can never point outside where n8n writes it.
 */
export function fileNameFromContentDisposition(value: string | undefined): string | undefined {
	if (!value) return undefined;
	let name: string | undefined;
	const extended = /filename\*\s*=\s*([\w!#$&+.^`|~-]+)'[^']*'([^;]+)/i.exec(value);
	if (extended) {
		try {
			name = decodeURIComponent(extended[2].trim());
		} catch {
			name = undefined;
		}
	}
	if (name === undefined) {
		const plain = /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(value);
		name = plain ? (plain[1] !== undefined ? plain[1].replace(/\\(.)/g, '$1') : plain[2]) : undefined;
	}
	const base = name?.split(/[\\/]/).pop()?.trim();
	return base && base !== '.' && base !== '..' ? base : undefined;
}

/** The `error` of a failed recording or analysis as one line (a string, or `code: message`). */
export function errorText(error: unknown): string | undefined {
	if (typeof error === 'string') return error;
	if (error && typeof error === 'object') {
		const { message, code } = error as { message?: unknown; code?: unknown };
		if (typeof message === 'string') return typeof code === 'string' ? `${code}: ${message}` : message;
	}
	return undefined;
}
