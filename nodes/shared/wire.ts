/**
 * Kallglot's wire format, in one place.
 *
 * Every JSON name that crosses the network lives in this module: request bodies, response
 * fields we read, error envelopes and stream frames. Several names are the project's reading of
 * Kallglot's docs where they leave a name open (marked [ours] below); keeping them here makes a correction one
 * edit. Nothing in this module imports n8n, so the stream client can use it too.
 */
import { z } from 'zod';

import { commaList } from './commaList';
import { translationWire } from './wire/stream';

// ---------------------------------------------------------------------------------------------
// Shared value rules

export const SESSION_MODES = [
	'bidirectional_translation',
	'assistive_translation',
	'ai_agent',
	'help_chat_voice',
] as const;
export type SessionMode = (typeof SESSION_MODES)[number];

/** What the editor shows for each mode (Session → Create, the webhook trigger's mode filter). */
const SESSION_MODE_LABELS: Record<SessionMode, { name: string; description: string }> = {
	bidirectional_translation: { name: 'Bidirectional Translation', description: 'Both parties hear translated speech' },
	assistive_translation: {
		name: 'Assistive Translation',
		description: 'The agent hears the original, the customer hears the translation',
	},
	ai_agent: { name: 'AI Agent', description: 'An AI voice agent handles the call' },
	help_chat_voice: { name: 'Help Chat Voice', description: 'A voice help-desk assistant' },
};

/** The modes as editor options, in SESSION_MODES order (`sorted`: by name, as n8n lists multi-options). */
export function sessionModeOptions({ sorted = false } = {}): Array<{ name: string; value: SessionMode; description: string }> {
	const options = SESSION_MODES.map((value) => ({ value, ...SESSION_MODE_LABELS[value] }));
	return sorted ? options.sort((a, b) => a.name.localeCompare(b.name)) : options;
}

export const CALL_DIRECTIONS = ['inbound', 'outbound'] as const;
export const RECORDING_MIX_MODES = ['dual_channel', 'mixed'] as const;
export const CONSENT_STATES = ['granted', 'denied', 'not_required'] as const;

const E164 = /^\+[1-9]\d{1,14}$/;
const LANGUAGE_CODE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

const e164 = z
	.string()
	.trim()
	.regex(E164, 'must be an E.164 phone number: "+", country code and number, no spaces (e.g. +14155551234)');
const languageCode = z
	.string()
	.trim()
	.regex(LANGUAGE_CODE, 'must be a language code such as en, es, de or pt-BR');
const unitInterval = (name: string) =>
	z.number({ invalid_type_error: `${name} must be a number` }).min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1');
const plainObject = z.record(z.unknown());

// ---------------------------------------------------------------------------------------------
// Create Session: the node's input (camelCase, what the UI collects) and its wire body

const routingInput = z.discriminatedUnion('method', [
	z.object({ method: z.literal('default') }),
	z.object({
		method: z.literal('phoneNumber'),
		phoneNumber: e164,
		direction: z.enum(CALL_DIRECTIONS).optional(),
	}),
	z.object({
		method: z.literal('connection'),
		connectionId: z
			.string()
			.trim()
			.regex(/^pcon_\w+$/, 'must be a provider connection id starting with pcon_ (e.g. pcon_01HXYZ)'),
		direction: z.enum(CALL_DIRECTIONS).optional(),
	}),
	z.object({
		method: z.literal('sip'),
		fromUri: z
			.string()
			.trim()
			.regex(/^sips?:\S+$/, 'must be a SIP URI starting with sip: or sips: (e.g. sip:alice@example.com)')
			.optional(),
		headers: z
			.record(
				z.string().regex(/^X-[A-Za-z0-9-]+$/i, 'SIP header names must start with X- (e.g. X-Customer-Id)'),
				z.string(),
			)
			.optional(),
		direction: z.enum(CALL_DIRECTIONS).optional(),
	}),
]);

export const createSessionInput = z
	.object({
		mode: z.enum(SESSION_MODES),
		sourceLanguage: languageCode.optional(),
		targetLanguage: languageCode.optional(),
		routing: routingInput,
		audio: z
			.object({
				encoding: z.string().trim().min(1).optional(),
				sampleRate: z.number().int('must be a whole number of Hz').positive('must be positive').optional(),
				channels: z.number().int().min(1, 'must be 1 or 2').max(2, 'must be 1 or 2').optional(),
			})
			.optional(),
		voice: z
			.object({
				voiceId: z.string().trim().min(1).optional(),
				stability: unitInterval('Stability').optional(),
				similarityBoost: unitInterval('Similarity Boost').optional(),
				speed: z.number().min(0.5, 'must be between 0.5 and 2').max(2, 'must be between 0.5 and 2').optional(),
			})
			.optional(),
		recording: z
			.object({
				enabled: z.boolean().optional(),
				mixMode: z.enum(RECORDING_MIX_MODES).optional(),
				consentRequired: z.boolean().optional(),
				consentState: z.enum(CONSENT_STATES).optional(),
			})
			.optional(),
		aiAgent: z
			.object({
				agentId: z
					.string()
					.trim()
					.regex(/^agt_\w+$/, 'must be an agent id starting with agt_ (pick one from the list)'),
				overrides: plainObject.optional(),
			})
			.optional(),
		metadata: plainObject.optional(),
		additionalFields: plainObject.optional(),
	})
	.superRefine((input, ctx) => {
		if (input.mode === 'ai_agent' && !input.aiAgent) {
			ctx.addIssue({
				code: z.ZodIssueCode.custom,
				path: ['aiAgent', 'agentId'],
				message: 'is required when the mode is AI Agent: choose the agent that handles the call',
			});
		}
		// Translation modes take no agent; the voice help desk may name one (Kallglot's session-create docs).
		const takesAgent = input.mode === 'ai_agent' || input.mode === 'help_chat_voice';
		if (!takesAgent && input.aiAgent) {
			ctx.addIssue({
				code: z.ZodIssueCode.custom,
				path: ['aiAgent', 'agentId'],
				message: `only applies to the AI Agent and Help Chat Voice modes, not ${input.mode}: remove the agent or change the mode`,
			});
		}
		if (!takesAgent && input.additionalFields && 'ai_agent' in input.additionalFields) {
			ctx.addIssue({
				code: z.ZodIssueCode.custom,
				path: ['additionalFields', 'ai_agent'],
				message: `only applies to the AI Agent and Help Chat Voice modes, not ${input.mode}: remove ai_agent or change the mode`,
			});
		}
		if (input.additionalFields && 'provider' in input.additionalFields) {
			ctx.addIssue({
				code: z.ZodIssueCode.custom,
				path: ['additionalFields', 'provider'],
				message: 'is a response-only field: choose the routing under Routing instead',
			});
		}
	});
export type CreateSessionInput = z.infer<typeof createSessionInput>;

/** Drops undefined members so that an option the user did not set sends nothing. */
function compact<T extends Record<string, unknown>>(value: T): Partial<T> | undefined {
	const entries = Object.entries(value).filter(([, v]) => v !== undefined);
	return entries.length ? (Object.fromEntries(entries) as Partial<T>) : undefined;
}

function routingBody(routing: CreateSessionInput['routing']): Record<string, unknown> | undefined {
	switch (routing.method) {
		case 'default':
			return undefined;
		case 'phoneNumber':
			return compact({ phone_number: routing.phoneNumber, direction: routing.direction });
		case 'connection':
			return compact({ connection_id: routing.connectionId, direction: routing.direction });
		case 'sip':
			return compact({
				type: 'sip',
				sip: compact({ from_uri: routing.fromUri, headers: routing.headers }),
				direction: routing.direction,
			});
	}
}

/** The body of `POST /v1/sessions`. Additional fields are merged last, as the escape hatch. */
export function toCreateSessionBody(input: CreateSessionInput): Record<string, unknown> {
	const body = compact({
		mode: input.mode,
		source_language: input.sourceLanguage,
		target_language: input.targetLanguage,
		routing: routingBody(input.routing),
		audio: input.audio &&
			compact({
				encoding: input.audio.encoding,
				sample_rate: input.audio.sampleRate,
				channels: input.audio.channels,
			}),
		voice: input.voice &&
			compact({
				voice_id: input.voice.voiceId,
				stability: input.voice.stability,
				similarity_boost: input.voice.similarityBoost,
				speed: input.voice.speed,
			}),
		recording: input.recording &&
			compact({
				enabled: input.recording.enabled,
				mix_mode: input.recording.mixMode,
				consent_required: input.recording.consentRequired,
				consent_state: input.recording.consentState,
			}),
		ai_agent: input.aiAgent &&
			compact({ agent_id: input.aiAgent.agentId, overrides: input.aiAgent.overrides }),
		metadata: input.metadata && Object.keys(input.metadata).length ? input.metadata : undefined,
	}) as Record<string, unknown>;
	return { ...body, ...(input.additionalFields ?? {}) };
}

// ---------------------------------------------------------------------------------------------
// Other operations

export const sessionId = z
	.string()
	.trim()
	.regex(/^sess_\w+$/, 'must be a session id starting with sess_ (e.g. sess_01HXYZ123456789)');

export const sessionRef = z.object({ sessionId });
export const dialInput = z.object({ sessionId, to: e164 });
export type DialInput = z.infer<typeof dialInput>;
export const toDialBody = (input: DialInput) => ({ to: input.to });

export const agentLimit = z.object({ limit: z.number().int('must be a whole number').min(1, 'must be at least 1') });

export const paths = {
	sessions: '/sessions',
	session: (id: string) => `/sessions/${encodeURIComponent(id)}`,
	endSession: (id: string) => `/sessions/${encodeURIComponent(id)}/end`,
	dial: (id: string) => `/sessions/${encodeURIComponent(id)}/dial`,
	transcript: (id: string) => `/sessions/${encodeURIComponent(id)}/transcript`,
	agents: '/agents',
} as const;

/** API key scopes: a key without the scope an endpoint needs gets 403 insufficient_permissions. */
export const SCOPES = ['sessions:read', 'sessions:write', 'recordings:read', 'analysis:read'] as const;
export type KallglotScope = (typeof SCOPES)[number];

export const headers = {
	idempotencyKey: 'Idempotency-Key',
	requestId: 'x-request-id',
	retryAfter: 'retry-after',
} as const;

export const agentListQuery = (limit: number, startingAfter?: string) =>
	compact({ limit, starting_after: startingAfter }) as Record<string, string | number>;

// ---------------------------------------------------------------------------------------------
// Responses we read (loose: unknown fields are kept, nullable fields tolerated)

export const sessionResponse = z
	.object({
		id: z.string(),
		status: z.enum(['created', 'active', 'ended']).or(z.string()),
		source_language: z.string().nullish(),
		target_language: z.string().nullish(),
		stream: z
			.object({ url: z.string(), token: z.string(), expires_at: z.string().nullish() })
			.nullish(),
		/** [ours] why an ended session ended, when Kallglot reports it on the session. */
		end_reason: z.string().nullish(),
		started_at: z.string().nullish(),
	})
	.passthrough();
export type SessionResponse = z.infer<typeof sessionResponse>;

/** The reason an ended session reports, or null when it reports none. */
export function sessionEndReason(session: SessionResponse): string | null {
	return session.end_reason ?? null;
}

export const agentListResponse = z
	.object({
		data: z.array(
			z.object({ id: z.string(), name: z.string().nullish(), description: z.string().nullish() }).passthrough(),
		),
		has_more: z.boolean(),
	})
	.passthrough();

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

// ---------------------------------------------------------------------------------------------
// Stream frames: one table in wire/stream.ts

export * from './wire/stream';

// ---------------------------------------------------------------------------------------------
// Transcripts

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
export type TranscriptResponse = z.infer<typeof transcriptResponse>;

// ---------------------------------------------------------------------------------------------
// Recordings and analyses

export const recordingId = z
	.string()
	.trim()
	.regex(/^rec_\w+$/, 'must be a recording id starting with rec_ (e.g. rec_01HXYZ): take it from Recording → Get Many');
export const analysisId = z
	.string()
	.trim()
	.regex(/^anl_\w+$/, 'must be an analysis id starting with anl_ (e.g. anl_01HXYZ): take it from Analysis → Create');

export const RECORDING_CHANNELS = ['agent', 'customer', 'mixed'] as const;
export const RECORDING_STATUSES = ['processing', 'ready', 'failed'] as const;
export const ANALYSIS_STATUSES = ['processing', 'completed', 'failed'] as const;
export const ANALYSIS_INCLUDES = ['summary', 'sentiment', 'compliance', 'keywords', 'performance'] as const;
export type AnalysisInclude = (typeof ANALYSIS_INCLUDES)[number];

/** Error codes the recording audio endpoint answers with [ours: the docs name the cases, not the codes]. */
export const recordingErrorCodes = {
	notReady: 'recording_not_ready',
	consentRequired: 'recording_consent_required',
} as const;

export const recordingRef = z.object({ recordingId });
export const analysisRef = z.object({ analysisId });
export const binaryPropertyName = z
	.string()
	.trim()
	.min(1, 'must name the binary property to write the file to (e.g. data)')
	.regex(/^[^\s.]+$/, 'must be one word without spaces or dots (e.g. data or recording)');
export const downloadRecordingInput = z.object({ recordingId, binaryPropertyName });

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
export type CreateAnalysisInput = z.infer<typeof createAnalysisInput>;

/** The body of `POST /v1/sessions/{id}/analysis`; an empty include sends Kallglot's default set. */
export const toCreateAnalysisBody = (input: CreateAnalysisInput): Record<string, unknown> =>
	compact({ profile: input.profile, include: input.include?.length ? input.include : undefined }) ?? {};

export const postCallPaths = {
	recordings: (sessionId: string) => `/sessions/${encodeURIComponent(sessionId)}/recordings`,
	recording: (id: string) => `/recordings/${encodeURIComponent(id)}`,
	/**
	 * The audio is fetched from this path on the credential's base URL, not from the response's
	 * `download_url`: the API key is never sent to a host an API answer names.
	 */
	recordingAudio: (id: string) => `/recordings/${encodeURIComponent(id)}/audio`,
	createAnalysis: (sessionId: string) => `/sessions/${encodeURIComponent(sessionId)}/analysis`,
	analysis: (id: string) => `/analyses/${encodeURIComponent(id)}`,
} as const;

export const mediaHeaders = {
	contentType: 'content-type',
	contentDisposition: 'content-disposition',
} as const;

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

/** `starting_after` cursor, as for agents [ours: the recordings list documents no pagination]. */
export const recordingListQuery = (startingAfter?: string) =>
	compact({ starting_after: startingAfter }) as Record<string, string> | undefined;

export const analysisResponse = z
	.object({
		id: z.string(),
		session_id: z.string().nullish(),
		status: z.enum(ANALYSIS_STATUSES).or(z.string()),
		error: z.unknown().optional(),
	})
	.passthrough();
export type AnalysisResponse = z.infer<typeof analysisResponse>;
// Webhook deliveries (envelope and data as Kallglot's webhook docs describe them)

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

/** Request headers of a delivery, lower-cased as Node.js presents them. */
export const webhookHeaders = {
	signature: 'kallglot-signature',
	deliveryId: 'kallglot-webhook-id',
	retryCount: 'kallglot-retry-count',
	originalTimestamp: 'kallglot-original-timestamp',
} as const;

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
