/**
 * What every HTTP exchange with Kallglot shares: the one map of API paths (relative to the
 * credential's base URL, which ends in /v1), the key scopes, the one map of header names (those we
 * send, and those we read from Kallglot's answers and webhook deliveries), and the error envelope.
 */
import { z } from 'zod';

export const paths = {
	sessions: '/sessions',
	session: (sessionId: string) => `/sessions/${encodeURIComponent(sessionId)}`,
	endSession: (sessionId: string) => `/sessions/${encodeURIComponent(sessionId)}/end`,
	dial: (sessionId: string) => `/sessions/${encodeURIComponent(sessionId)}/dial`,
	transcript: (sessionId: string) => `/sessions/${encodeURIComponent(sessionId)}/transcript`,
	agents: '/agents',
	recordings: (sessionId: string) => `/sessions/${encodeURIComponent(sessionId)}/recordings`,
	recording: (recordingId: string) => `/recordings/${encodeURIComponent(recordingId)}`,
	/**
	 * The audio is fetched from this path on the credential's base URL, not from the response's
	 * `download_url`: the API key is never sent to a host an API answer names.
	 */
	recordingAudio: (recordingId: string) => `/recordings/${encodeURIComponent(recordingId)}/audio`,
	createAnalysis: (sessionId: string) => `/sessions/${encodeURIComponent(sessionId)}/analysis`,
	analysis: (analysisId: string) => `/analyses/${encodeURIComponent(analysisId)}`,
} as const;

/** API key scopes: a key without the scope an endpoint needs gets 403 insufficient_permissions. */
export type KallglotScope = 'sessions:read' | 'sessions:write' | 'recordings:read' | 'analysis:read';

/** Header names; those we read are lower-cased, as Node.js presents them. */
export const headers = {
	idempotencyKey: 'Idempotency-Key',
	requestId: 'x-request-id',
	retryAfter: 'retry-after',
	contentType: 'content-type',
	contentDisposition: 'content-disposition',
	/** Sent with each webhook delivery. */
	webhook: {
		/** `t=<unix s>,v1=<hex>[,v1=<hex>]`: see webhookSignatureScheme. */
		signature: 'kallglot-signature',
		deliveryId: 'kallglot-webhook-id',
		retryCount: 'kallglot-retry-count',
	},
} as const;

export const errorEnvelope = z.object({
	error: z
		.object({
			type: z.string().optional(),
			code: z.string().optional(),
			message: z.string().optional(),
			param: z.string().optional(),
			request_id: z.string().optional(),
			retry_after: z.number().optional(),
		})
		.passthrough(),
});
export type KallglotError = z.infer<typeof errorEnvelope>['error'];
