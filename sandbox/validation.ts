/**
 * The sandbox's own request validation, written from Kallglot's API and
 * deliberately independent of the node's schemas: if both read Kallglot's API the same way, the
 * node's requests pass here; if they diverge, tests catch it.
 *
 * Every failure names the offending field as a dotted `param` (e.g. `routing.phone_number`).
 */
import { ANALYSIS_PARTS, SESSION_MODES, type AnalysisPart, type JsonObject, type SessionMode, type Speaker } from './types';

export interface ValidationIssue {
	param: string;
	message: string;
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; issue: ValidationIssue };

export type RoutingMethod = 'phone_number' | 'connection_id' | 'sip' | 'default';

export interface CreateSessionInput {
	mode: SessionMode;
	sourceLanguage: string | null;
	targetLanguage: string | null;
	routingMethod: RoutingMethod;
	phoneNumber: string | null;
	connectionId: string | null;
	recording: {
		enabled?: boolean;
		consent_required?: boolean;
		mix_mode?: 'dual_channel' | 'mixed';
		consent_state?: 'granted' | 'denied' | 'not_required';
	};
	aiAgent: { agent_id: string; overrides?: JsonObject } | null;
	metadata: JsonObject | null;
	/** Top-level fields Kallglot does not name: accepted and stored (forward compatibility). */
	extraFields: JsonObject;
}

export const E164 = /^\+[1-9]\d{1,14}$/;
const CONNECTION_ID = /^pcon_\w+/;
/** Short language codes: `en`, `es`, `pt-BR`, `zh-Hant`, `es-419`. */
const LANGUAGE_CODE = /^[a-z]{2,3}(-([A-Z]{2}|[A-Z][a-z]{3}|\d{3}))?$/;
const SIP_URI = /^sips?:/;
const SIP_X_HEADER = /^X-[A-Za-z0-9-]+$/i;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const KNOWN_CREATE_FIELDS = new Set([
	'mode',
	'source_language',
	'target_language',
	'routing',
	'audio',
	'voice',
	'recording',
	'ai_agent',
	'metadata',
]);

/** Thrown inside this module only; the exported functions turn it into a ValidationResult. */
class FieldIssue extends Error {
	constructor(
		readonly param: string,
		message: string,
	) {
		super(message);
	}
}

function fail(param: string, message: string): never {
	throw new FieldIssue(param, message);
}

function collect<T>(validate: () => T): ValidationResult<T> {
	try {
		return { ok: true, value: validate() };
	} catch (e) {
		if (e instanceof FieldIssue) return { ok: false, issue: { param: e.param, message: e.message } };
		throw e;
	}
}

export function isPlainObject(value: unknown): value is JsonObject {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const has = (obj: JsonObject, key: string): boolean => Object.prototype.hasOwnProperty.call(obj, key);

/** Optional object field: absent or null means "not given". */
function optionalObject(parent: JsonObject, key: string, param: string): JsonObject | null {
	const value = parent[key];
	if (value === undefined || value === null) return null;
	if (!isPlainObject(value)) fail(param, `${param} must be an object.`);
	return value;
}

function optionalString(parent: JsonObject, key: string, param: string): string | undefined {
	const value = parent[key];
	if (value === undefined || value === null) return undefined;
	if (typeof value !== 'string' || value === '') fail(param, `${param} must be a non-empty string.`);
	return value;
}

function optionalBoolean(parent: JsonObject, key: string, param: string): boolean | undefined {
	const value = parent[key];
	if (value === undefined || value === null) return undefined;
	if (typeof value !== 'boolean') fail(param, `${param} must be a boolean.`);
	return value;
}

function optionalNumberInRange(parent: JsonObject, key: string, param: string, min: number, max: number): void {
	const value = parent[key];
	if (value === undefined || value === null) return;
	if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
		fail(param, `${param} must be a number between ${min} and ${max}.`);
	}
}

function optionalEnum<T extends string>(parent: JsonObject, key: string, param: string, allowed: readonly T[]): T | undefined {
	const value = parent[key];
	if (value === undefined || value === null) return undefined;
	if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
		fail(param, `${param} must be one of: ${allowed.join(', ')}.`);
	}
	return value as T;
}

function optionalLanguage(body: JsonObject, key: string): string | null {
	const value = optionalString(body, key, key);
	if (value === undefined) return null;
	if (!LANGUAGE_CODE.test(value)) fail(key, `${key} must be a short language code such as "en", "es" or "pt-BR".`);
	return value;
}

interface RoutingResult {
	method: RoutingMethod;
	phoneNumber: string | null;
	connectionId: string | null;
}

function validateRouting(body: JsonObject): RoutingResult {
	const routing = optionalObject(body, 'routing', 'routing');
	if (routing === null) return { method: 'default', phoneNumber: null, connectionId: null };

	const methods = (['phone_number', 'connection_id', 'type'] as const).filter(
		(key) => routing[key] !== undefined && routing[key] !== null,
	);
	if (methods.length > 1) {
		fail('routing', `routing must use exactly one method; got ${methods.map((m) => `routing.${m}`).join(' and ')}.`);
	}
	optionalEnum(routing, 'direction', 'routing.direction', ['inbound', 'outbound'] as const);

	const sip = routing.sip;
	if (sip !== undefined && sip !== null && routing.type !== 'sip') {
		fail('routing.sip', 'routing.sip is only allowed with routing.type "sip".');
	}

	switch (methods[0]) {
		case 'phone_number': {
			const phone = routing.phone_number;
			if (typeof phone !== 'string' || !E164.test(phone)) {
				fail('routing.phone_number', 'routing.phone_number must be an E.164 number such as +14155551234.');
			}
			return { method: 'phone_number', phoneNumber: phone, connectionId: null };
		}
		case 'connection_id': {
			const connection = routing.connection_id;
			if (typeof connection !== 'string' || !CONNECTION_ID.test(connection)) {
				fail('routing.connection_id', 'routing.connection_id must be a provider connection id (pcon_…).');
			}
			return { method: 'connection_id', phoneNumber: null, connectionId: connection };
		}
		case 'type': {
			if (routing.type !== 'sip') fail('routing.type', 'routing.type must be "sip" (omit it for phone_number and connection_id).');
			validateSip(routing);
			return { method: 'sip', phoneNumber: null, connectionId: null };
		}
		default:
			// Only a direction hint (or nothing): the organization's default route.
			return { method: 'default', phoneNumber: null, connectionId: null };
	}
}

function validateSip(routing: JsonObject): void {
	const sip = optionalObject(routing, 'sip', 'routing.sip');
	if (sip === null) return;
	const fromUri = optionalString(sip, 'from_uri', 'routing.sip.from_uri');
	if (fromUri !== undefined && !SIP_URI.test(fromUri)) {
		fail('routing.sip.from_uri', 'routing.sip.from_uri must be a SIP URI starting with "sip:" or "sips:".');
	}
	const headers = optionalObject(sip, 'headers', 'routing.sip.headers');
	if (headers === null) return;
	for (const [name, value] of Object.entries(headers)) {
		if (!SIP_X_HEADER.test(name)) fail('routing.sip.headers', `routing.sip.headers: "${name}" is not an X- header name.`);
		if (typeof value !== 'string') fail('routing.sip.headers', `routing.sip.headers: the value of "${name}" must be a string.`);
	}
}

function validateAudio(body: JsonObject): void {
	const audio = optionalObject(body, 'audio', 'audio');
	if (audio === null) return;
	optionalString(audio, 'encoding', 'audio.encoding');
	const sampleRate = audio.sample_rate;
	if (sampleRate !== undefined && sampleRate !== null && !(Number.isInteger(sampleRate) && (sampleRate as number) > 0)) {
		fail('audio.sample_rate', 'audio.sample_rate must be a positive integer (Hz).');
	}
	const channels = audio.channels;
	if (channels !== undefined && channels !== null && channels !== 1 && channels !== 2) {
		fail('audio.channels', 'audio.channels must be 1 or 2.');
	}
}

function validateVoice(body: JsonObject): void {
	const voice = optionalObject(body, 'voice', 'voice');
	if (voice === null) return;
	optionalString(voice, 'voice_id', 'voice.voice_id');
	optionalNumberInRange(voice, 'stability', 'voice.stability', 0, 1);
	optionalNumberInRange(voice, 'similarity_boost', 'voice.similarity_boost', 0, 1);
	optionalNumberInRange(voice, 'speed', 'voice.speed', 0.5, 2);
}

function validateRecording(body: JsonObject): CreateSessionInput['recording'] {
	const recording = optionalObject(body, 'recording', 'recording');
	if (recording === null) return {};
	const result: CreateSessionInput['recording'] = {};
	const enabled = optionalBoolean(recording, 'enabled', 'recording.enabled');
	const consentRequired = optionalBoolean(recording, 'consent_required', 'recording.consent_required');
	const mixMode = optionalEnum(recording, 'mix_mode', 'recording.mix_mode', ['dual_channel', 'mixed'] as const);
	const consentState = optionalEnum(recording, 'consent_state', 'recording.consent_state', [
		'granted',
		'denied',
		'not_required',
	] as const);
	if (enabled !== undefined) result.enabled = enabled;
	if (consentRequired !== undefined) result.consent_required = consentRequired;
	if (mixMode !== undefined) result.mix_mode = mixMode;
	if (consentState !== undefined) result.consent_state = consentState;
	return result;
}

function validateAiAgent(body: JsonObject, mode: SessionMode): CreateSessionInput['aiAgent'] {
	const aiAgent = optionalObject(body, 'ai_agent', 'ai_agent');
	// The voice help desk may reference an agent (optional); translation modes take none.
	if (mode === 'help_chat_voice' && aiAgent === null) return null;
	if (mode !== 'ai_agent' && mode !== 'help_chat_voice') {
		if (aiAgent !== null) fail('ai_agent', 'ai_agent is only allowed with modes "ai_agent" and "help_chat_voice".');
		return null;
	}
	const agentId = aiAgent === null ? undefined : optionalString(aiAgent, 'agent_id', 'ai_agent.agent_id');
	if (aiAgent === null || agentId === undefined) {
		fail('ai_agent.agent_id', 'mode "ai_agent" requires ai_agent.agent_id.');
	}
	const overrides = optionalObject(aiAgent, 'overrides', 'ai_agent.overrides');
	return overrides === null ? { agent_id: agentId } : { agent_id: agentId, overrides };
}

/** POST /v1/sessions body. A non-object body is reported with param "body". */
export function validateCreateSession(body: unknown): ValidationResult<CreateSessionInput> {
	return collect(() => {
		if (!isPlainObject(body)) fail('body', 'The request body must be a JSON object.');
		// `provider` is response-only; older samples sent a nested object here.
		if (has(body, 'provider')) fail('provider', 'provider is response-only; choose the telephony route with routing.');

		const mode = body.mode;
		if (mode === undefined || mode === null) fail('mode', 'mode is required.');
		if (typeof mode !== 'string' || !(SESSION_MODES as readonly string[]).includes(mode)) {
			fail('mode', `mode must be one of: ${SESSION_MODES.join(', ')}.`);
		}
		const sessionMode = mode as SessionMode;

		const sourceLanguage = optionalLanguage(body, 'source_language');
		const targetLanguage = optionalLanguage(body, 'target_language');
		const routing = validateRouting(body);
		validateAudio(body);
		validateVoice(body);
		const recording = validateRecording(body);
		const aiAgent = validateAiAgent(body, sessionMode);
		const metadata = optionalObject(body, 'metadata', 'metadata');

		const extraFields: JsonObject = {};
		for (const [key, value] of Object.entries(body)) if (!KNOWN_CREATE_FIELDS.has(key)) extraFields[key] = value;

		return {
			mode: sessionMode,
			sourceLanguage,
			targetLanguage,
			routingMethod: routing.method,
			phoneNumber: routing.phoneNumber,
			connectionId: routing.connectionId,
			recording,
			aiAgent,
			metadata,
			extraFields,
		};
	});
}

/** POST /v1/sessions/{id}/dial body: `{"to": "+E164"}`. */
export function validateDial(body: unknown): ValidationResult<{ to: string }> {
	return collect(() => {
		if (!isPlainObject(body)) fail('to', 'The request body must be a JSON object with "to".');
		const to = body.to;
		if (typeof to !== 'string' || !E164.test(to)) fail('to', 'to must be an E.164 number such as +14155551234.');
		return { to };
	});
}

/** GET /v1/agents `limit`: integer 1–100, default 20. */
export function validateListLimit(raw: string | undefined): ValidationResult<number> {
	return collect(() => {
		if (raw === undefined) return 20;
		if (!/^\d+$/.test(raw)) fail('limit', 'limit must be an integer between 1 and 100.');
		const limit = Number(raw);
		if (limit < 1 || limit > 100) fail('limit', 'limit must be an integer between 1 and 100.');
		return limit;
	});
}

export interface AudioInputFrame {
	speaker: Speaker;
	payloadBytes: number;
}

/**
 * Client `audio.input` frame: speaker customer|agent, μ-law 8 kHz, base64 payload.
 * Any other format is a `session.error` `invalid_audio_format`; the issue says why.
 */
export function validateAudioInput(frame: JsonObject): ValidationResult<AudioInputFrame> {
	return collect(() => {
		const speaker = frame.speaker;
		if (speaker !== 'customer' && speaker !== 'agent') fail('speaker', 'speaker must be "customer" or "agent".');
		const audio = frame.audio;
		if (!isPlainObject(audio)) fail('audio', 'audio must be an object.');
		if (audio.encoding !== 'mulaw') fail('audio.encoding', 'audio.encoding must be "mulaw".');
		if (audio.sample_rate_hz !== 8000) fail('audio.sample_rate_hz', 'audio.sample_rate_hz must be 8000.');
		const payload = audio.payload;
		if (typeof payload !== 'string' || payload === '' || !BASE64.test(payload)) {
			fail('audio.payload', 'audio.payload must be non-empty base64 (μ-law mono).');
		}
		return { speaker, payloadBytes: Buffer.from(payload, 'base64').length };
	});
}

export interface AnalysisRequestInput {
	profile: string;
	include: AnalysisPart[];
}

/**
 * POST /v1/sessions/{id}/analysis body: `{profile?, include?}`, empty body allowed.
 * Defaults: profile "default", every part.
 */
export function validateAnalysisRequest(body: unknown): ValidationResult<AnalysisRequestInput> {
	return collect(() => {
		if (body === null) return { profile: 'default', include: [...ANALYSIS_PARTS] };
		if (!isPlainObject(body)) fail('body', 'The request body must be a JSON object.');
		const profile = optionalString(body, 'profile', 'profile') ?? 'default';
		if (profile === '' || profile.length > 64) fail('profile', 'profile must be a non-empty string of at most 64 characters.');
		const include = body.include;
		if (include === undefined) return { profile, include: [...ANALYSIS_PARTS] };
		if (!Array.isArray(include) || include.length === 0) {
			fail('include', `include must be a non-empty array of: ${ANALYSIS_PARTS.join(', ')}.`);
		}
		include.forEach((part, index) => {
			if (!(ANALYSIS_PARTS as readonly unknown[]).includes(part)) {
				fail(`include[${index}]`, `include[${index}] must be one of: ${ANALYSIS_PARTS.join(', ')}.`);
			}
		});
		return { profile, include: [...new Set(include as AnalysisPart[])] };
	});
}
