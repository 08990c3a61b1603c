/**
 * What every HTTP exchange with Kallglot shares: the key scopes, the one map of header names (those we
 * send, and those we read from Kallglot's answers and webhook deliveries), and the error envelope.
 */
import { z } from 'zod';

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
