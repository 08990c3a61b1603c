/**
 * Sessions on the wire: the modes, Create Session's input (camelCase, what the UI collects) and its
 * body, Dial's input and body, the session ID rule, and the session object we read back.
 */
import { z } from 'zod';

import { compact, e164, languageCode, plainObject, unitInterval } from './values';

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
		// Translation modes take no agent; the voice help desk may name one.
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

/** The ID every session operation takes. */
export const sessionId = z
	.string()
	.trim()
	.regex(/^sess_\w+$/, 'must be a session id starting with sess_ (e.g. sess_01HXYZ123456789)');

export const sessionRef = z.object({ sessionId });
export const dialInput = z.object({ sessionId, to: e164 });
type DialInput = z.infer<typeof dialInput>;
export const toDialBody = (input: DialInput) => ({ to: input.to });

/** The session object (loose: unknown fields are kept, nullable fields tolerated). */
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

