/** Session records, stream tokens, and the wire resources built from them. */
import { newSessionId, newStreamToken } from './ids';
import type { CreateSessionInput, RoutingMethod } from './validation';
import type { JsonObject, Provider, SandboxSession, TranscriptTurn } from './types';

export interface StreamTicket {
	url: string;
	token: string;
	expires_at: string;
}

export type TokenCheck = 'ok' | 'missing' | 'unknown' | 'other_session' | 'expired';

/** Stream tokens are reusable until they expire; expiry is checked only at the handshake. */
export class StreamTokenRegistry {
	private readonly tokens = new Map<string, { sessionId: string; expiresAt: number }>();

	constructor(private readonly ttlMs: number) {}

	issue(sessionId: string, now: number = Date.now()): { token: string; expiresAt: Date } {
		const token = newStreamToken();
		const expiresAt = now + this.ttlMs;
		this.tokens.set(token, { sessionId, expiresAt });
		return { token, expiresAt: new Date(expiresAt) };
	}

	check(sessionId: string, token: string | null, now: number = Date.now()): TokenCheck {
		if (token === null || token === '') return 'missing';
		const entry = this.tokens.get(token);
		if (entry === undefined) return 'unknown';
		if (entry.sessionId !== sessionId) return 'other_session';
		return now >= entry.expiresAt ? 'expired' : 'ok';
	}
}

/** Routing method → response `provider` (the sandbox's fixed mapping). */
const PROVIDER_BY_ROUTING: Record<RoutingMethod, Provider | null> = {
	phone_number: 'twilio',
	connection_id: 'telnyx',
	sip: 'sip',
	default: null,
};

export function createSessionRecord(input: CreateSessionInput, body: JsonObject, ownerApiKey: string): SandboxSession {
	return {
		id: newSessionId(),
		ownerApiKey,
		status: 'created',
		mode: input.mode,
		sourceLanguage: input.sourceLanguage,
		targetLanguage: input.targetLanguage,
		provider: PROVIDER_BY_ROUTING[input.routingMethod],
		phoneNumber: input.phoneNumber,
		request: body,
		extraFields: input.extraFields,
		recording: {
			enabled: input.recording.enabled ?? false,
			consent_required: input.recording.consent_required ?? false,
			...(input.recording.mix_mode !== undefined ? { mix_mode: input.recording.mix_mode } : {}),
			...(input.recording.consent_state !== undefined ? { consent_state: input.recording.consent_state } : {}),
		},
		aiAgent: input.aiAgent,
		metadata: input.metadata,
		call: null,
		createdAt: new Date(),
		startedAt: null,
		endedAt: null,
		endReason: null,
		transcript: [],
		nextSequence: 1,
		sentScriptFrames: [],
		framesSent: 0,
		connectionsAccepted: 0,
		clientFrames: [],
	};
}

export type SessionView =
	/** POST /v1/sessions: exactly Kallglot's example 201 answer (+ `ai_agent` when set). */
	| 'created'
	/** GET /v1/sessions/{id}, dial: adds started_at / ended_at; `stream` only while not ended. */
	| 'retrieved';

export function sessionResource(session: SandboxSession, stream: StreamTicket | null, view: SessionView): JsonObject {
	const resource: JsonObject = {
		id: session.id,
		object: 'session',
		status: session.status,
		mode: session.mode,
		provider: session.provider,
		phone_number: session.phoneNumber,
		source_language: session.sourceLanguage,
		target_language: session.targetLanguage,
	};
	if (stream !== null) resource.stream = stream;
	resource.call = session.call;
	resource.recording = session.recording;
	resource.metadata = session.metadata;
	if (session.aiAgent !== null) resource.ai_agent = session.aiAgent;
	resource.created_at = session.createdAt.toISOString();
	if (view === 'retrieved') {
		resource.started_at = session.startedAt?.toISOString() ?? null;
		resource.ended_at = session.endedAt?.toISOString() ?? null;
	}
	return resource;
}

/** Seconds between the stream opening and the end (0 when no stream ever opened). */
export function durationSeconds(session: SandboxSession, now: Date = new Date()): number {
	if (session.startedAt === null) return 0;
	const end = session.endedAt ?? now;
	return Math.round(end.getTime() - session.startedAt.getTime()) / 1000;
}

/** POST /v1/sessions/{id}/end response. */
export function endSummary(session: SandboxSession): JsonObject {
	return {
		id: session.id,
		object: 'session',
		status: 'ended',
		duration_seconds: durationSeconds(session),
		ended_at: session.endedAt?.toISOString() ?? null,
	};
}

/** GET /v1/sessions/{id}/transcript, built from the finals the script has delivered. */
export function transcriptResource(session: SandboxSession): JsonObject {
	const turns: TranscriptTurn[] = session.transcript.map((turn) => ({ ...turn }));
	const languages = [...new Set(turns.map((t) => t.language))];
	return {
		id: `trn_${session.id.slice('sess_'.length)}`,
		object: 'transcript',
		session_id: session.id,
		status: session.status === 'ended' ? 'completed' : 'in_progress',
		turns,
		metadata: {
			total_turns: turns.length,
			duration_seconds: durationSeconds(session),
			languages_detected: languages,
		},
	};
}
