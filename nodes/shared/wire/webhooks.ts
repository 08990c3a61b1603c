/**
 * Webhook deliveries on the wire: the event types, the signature scheme, the envelope, the
 * transcript.segment data, and which session an event belongs to. The delivery's header names are
 * in http.ts (`headers.webhook`).
 */
import { z } from 'zod';

import { translationWire } from './transcript';
import { plainObject } from './values';

export const WEBHOOK_EVENT_TYPES = [
	'session.created',
	'session.started',
	'session.ended',
	'transcript.segment',
	'transcript.ready',
	'recording.ready',
	'recording.failed',
	'analysis.complete',
	'analysis.failed',
	'session.provider.connected',
	'session.provider.disconnected',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** What a CRM workflow wants after a call: the default selection. */
export const POST_CALL_EVENT_TYPES: readonly WebhookEventType[] = [
	'session.ended',
	'transcript.ready',
	'recording.ready',
	'analysis.complete',
];

/** `Kallglot-Signature: t=<unix s>,v1=<hex>[,v1=<hex>]`; v1 = HMAC-SHA256(secret, `${t}.${raw body}`). */
export const webhookSignatureScheme = { timestamp: 't', v1: 'v1' } as const;

export const webhookEnvelope = z
	.object({
		id: z.string().min(1),
		object: z.string().nullish(),
		type: z.string().min(1),
		api_version: z.string().nullish(),
		created_at: z.string().nullish(),
		data: plainObject,
	})
	.passthrough();
export type WebhookEnvelope = z.infer<typeof webhookEnvelope>;

export const transcriptSegmentData = z
	.object({
		session_id: z.string().nullish(),
		sequence: z.number().int().nullish(),
		speaker: z.string(),
		language: z.string().nullish(),
		text: z.string(),
		translation: translationWire,
		timestamp: z.string().nullish(),
	})
	.passthrough();

/** The session an event belongs to: `session_id` on its objects, `id` on a session object. */
export function webhookSessionId(envelope: WebhookEnvelope): string | null {
	const { data } = envelope;
	if (typeof data.session_id === 'string' && data.session_id) return data.session_id;
	const isSession = data.object === 'session' || envelope.type.startsWith('session.');
	return isSession && typeof data.id === 'string' && data.id ? data.id : null;
}

/** Whether `data` is the session object itself (it then carries metadata and mode). */
export const webhookCarriesSession = (envelope: WebhookEnvelope): boolean =>
	envelope.data.object === 'session' || (envelope.type.startsWith('session.') && typeof envelope.data.id === 'string');
