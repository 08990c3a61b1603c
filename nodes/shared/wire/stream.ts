/**
 * Stream frames (the session WebSocket's JSON messages, each with a `type`), in one table: for each server frame type, its schema (the
 * reference, and the source of every problem's detail), a hand-written fast check with the same
 * rules (the hot path, without zod's per-frame copies), the event it becomes, an example, and what
 * makes two frames the same event. The parser, the StreamEvent type and the fast-path/zod parity
 * test (test/stream/frames.test.ts) all come from this table; the compiler refuses a frame type
 * that is missing anywhere in it. A type not in the table is `unknown`: never another event.
 * No n8n import.
 */
import { z } from 'zod';

import { normalizeTranslation, translationWire, type Translation } from './transcript';

/** The only audio format the stream takes: μ-law, 8 kHz, mono, 100–200 ms per frame. */
export const STREAM_AUDIO = { encoding: 'mulaw', sampleRateHz: 8000, minChunkMs: 100, maxChunkMs: 200 } as const;

export interface AudioInputChunk {
	sequence: number;
	/** Offset of the chunk's first sample from the start of the audio. */
	timestampMs: number;
	speaker: 'customer' | 'agent';
	/** μ-law bytes. */
	payload: Uint8Array;
}

export const clientFrames = {
	ping: () => JSON.stringify({ type: 'ping' }),
	end: () => JSON.stringify({ type: 'session.end' }),
	audioInput: (chunk: AudioInputChunk) =>
		JSON.stringify({
			type: 'audio.input',
			sequence: chunk.sequence,
			timestamp_ms: chunk.timestampMs,
			speaker: chunk.speaker,
			audio: {
				encoding: STREAM_AUDIO.encoding,
				sample_rate_hz: STREAM_AUDIO.sampleRateHz,
				payload: Buffer.from(chunk.payload.buffer, chunk.payload.byteOffset, chunk.payload.byteLength).toString('base64'),
			},
		}),
};

/** The query parameter that carries the stream token: redact it wherever a URL is shown. */
export const STREAM_TOKEN_PARAM = 'token';

export function streamUrl(url: string, token: string): string {
	const u = new URL(url);
	u.searchParams.set(STREAM_TOKEN_PARAM, token);
	return u.toString();
}

/** The fields each frame type's event carries besides `type` and `raw` (the frame as received). */
interface EventFields {
	'session.ready': { sessionId: string | null };
	'transcript.partial': { speaker: string; text: string; language: string | null; sequence: number | null };
	'transcript.final': {
		speaker: string;
		text: string;
		language: string | null;
		sequence: number | null;
		timestamp: string | null;
		translation: Translation | null;
	};
	pong: Record<never, never>;
	'session.error': { code: string | null; message: string | null };
	'session.ended': { sessionId: string | null; reason: string | null };
}

export type FrameType = keyof EventFields;
type Raw = Record<string, unknown>;
export type FrameEvent<K extends FrameType> = { type: K } & EventFields[K] & { raw: Raw };
export type UnknownEvent = { type: 'unknown'; wireType: string; raw: Raw };

/** A server frame in our own vocabulary. */
export type StreamEvent = { [K in FrameType]: FrameEvent<K> }[FrameType] | UnknownEvent;

/** A final's sequence number, or a string for every other kind of identity. */
export type EventIdentity = number | string;

export type FrameProblem = 'invalid_json' | 'schema';
export type ParsedFrame = { ok: true; event: StreamEvent } | { ok: false; problem: FrameProblem; detail: string };

interface FrameSpec<K extends FrameType> {
	/** The rules, as zod: the reference the fast check is tested against, and every problem's detail. */
	schema: z.AnyZodObject;
	/** The event from what the schema accepted. */
	fromSchema(data: Raw, raw: Raw): FrameEvent<K>;
	/** The same rules, hand-written: the event, or null to let the schema decide (and explain). */
	fast(raw: Raw): FrameEvent<K> | null;
	/**
	 * What makes two frames "the same event", so a frame replayed after a reconnect is emitted
	 * once; null for frames that may legitimately repeat on each connection.
	 */
	identity(event: FrameEvent<K>): EventIdentity | null;
	/** A valid frame (documentation, and the base of the parity test's variations). */
	example: Raw;
}

/** One table entry, with the schema's own type for `fromSchema`. */
function frame<K extends FrameType, S extends z.AnyZodObject>(spec: {
	schema: S;
	fromSchema(data: z.infer<S>, raw: Raw): FrameEvent<K>;
	fast(raw: Raw): FrameEvent<K> | null;
	identity(event: FrameEvent<K>): EventIdentity | null;
	example: Raw;
}): FrameSpec<K> {
	return spec as unknown as FrameSpec<K>;
}

const isOptionalString = (v: unknown): v is string | undefined => v === undefined || typeof v === 'string';
const isNullishString = (v: unknown): v is string | null | undefined => v === undefined || v === null || typeof v === 'string';
const isNullishInt = (v: unknown): v is number | null | undefined =>
	v === undefined || v === null || (typeof v === 'number' && Number.isInteger(v));

/** translationWire, normalized; undefined when the value breaks the rule. */
function fastTranslation(value: unknown): Translation | null | undefined {
	if (value === undefined || value === null) return null;
	if (typeof value === 'string') return value === '' ? null : { language: null, text: value };
	if (typeof value !== 'object' || Array.isArray(value)) return undefined;
	const { language, text } = value as Raw;
	if (typeof text !== 'string' || !isNullishString(language)) return undefined;
	return { language: (language as string | null | undefined) ?? null, text };
}

const never = () => null;

export const STREAM_FRAMES = {
	'session.ready': frame({
		schema: z.object({ session_id: z.string().optional() }).passthrough(),
		fromSchema: (f, raw) => ({ type: 'session.ready', sessionId: f.session_id ?? null, raw }),
		fast: (raw) => (isOptionalString(raw.session_id) ? { type: 'session.ready', sessionId: raw.session_id ?? null, raw } : null),
		identity: never,
		example: { type: 'session.ready', session_id: 'sess_1' },
	}),
	'transcript.partial': frame({
		schema: z
			.object({ speaker: z.string(), text: z.string(), language: z.string().nullish(), sequence: z.number().int().nullish() })
			.passthrough(),
		fromSchema: (f, raw) => ({
			type: 'transcript.partial',
			speaker: f.speaker,
			text: f.text,
			language: f.language ?? null,
			sequence: f.sequence ?? null,
			raw,
		}),
		fast: (raw) => {
			const { speaker, text, language, sequence } = raw;
			if (typeof speaker !== 'string' || typeof text !== 'string') return null;
			if (!isNullishString(language) || !isNullishInt(sequence)) return null;
			return { type: 'transcript.partial', speaker, text, language: language ?? null, sequence: sequence ?? null, raw };
		},
		// Partials of one utterance share the sequence: their text is part of the identity.
		identity: (e) => `partial:${e.sequence ?? ''}:${e.speaker}:${e.text}`,
		example: { type: 'transcript.partial', speaker: 'agent', text: 'Buen', language: 'es', sequence: 4 },
	}),
	'transcript.final': frame({
		schema: z
			.object({
				speaker: z.string(),
				text: z.string(),
				language: z.string().nullish(),
				sequence: z.number().int().nullish(),
				timestamp: z.string().nullish(),
				translation: translationWire,
			})
			.passthrough(),
		fromSchema: (f, raw) => ({
			type: 'transcript.final',
			speaker: f.speaker,
			text: f.text,
			language: f.language ?? null,
			sequence: f.sequence ?? null,
			timestamp: f.timestamp ?? null,
			translation: normalizeTranslation(f.translation),
			raw,
		}),
		fast: (raw) => {
			const { speaker, text, language, sequence, timestamp } = raw;
			if (typeof speaker !== 'string' || typeof text !== 'string') return null;
			if (!isNullishString(language) || !isNullishInt(sequence) || !isNullishString(timestamp)) return null;
			const translation = fastTranslation(raw.translation);
			if (translation === undefined) return null;
			return {
				type: 'transcript.final',
				speaker,
				text,
				language: language ?? null,
				sequence: sequence ?? null,
				timestamp: timestamp ?? null,
				translation,
				raw,
			};
		},
		// Unique per utterance sequence; the bare number (no string to build and hash per frame):
		// no other identity is a number. Without a sequence, the content.
		identity: (e) => (e.sequence !== null ? e.sequence : `final:${e.speaker}:${e.text}`),
		example: {
			type: 'transcript.final',
			speaker: 'customer',
			text: 'Hola',
			language: 'es',
			sequence: 3,
			timestamp: '2026-12-01T20:00:00.000Z',
			translation: { language: 'en', text: 'Hello' },
		},
	}),
	pong: frame({
		schema: z.object({ session_id: z.string().optional() }).passthrough(),
		fromSchema: (_f, raw) => ({ type: 'pong', raw }),
		fast: (raw) => (isOptionalString(raw.session_id) ? { type: 'pong', raw } : null),
		identity: never,
		example: { type: 'pong', session_id: 'sess_1' },
	}),
	'session.error': frame({
		schema: z.object({ code: z.string().nullish(), message: z.string().nullish() }).passthrough(),
		fromSchema: (f, raw) => ({ type: 'session.error', code: f.code ?? null, message: f.message ?? null, raw }),
		fast: (raw) =>
			isNullishString(raw.code) && isNullishString(raw.message)
				? { type: 'session.error', code: raw.code ?? null, message: raw.message ?? null, raw }
				: null,
		identity: never,
		example: { type: 'session.error', code: 'invalid_audio_format', message: 'bad audio' },
	}),
	'session.ended': frame({
		schema: z.object({ session_id: z.string().optional(), reason: z.string().nullish() }).passthrough(),
		fromSchema: (f, raw) => ({ type: 'session.ended', sessionId: f.session_id ?? null, reason: f.reason ?? null, raw }),
		fast: (raw) =>
			isOptionalString(raw.session_id) && isNullishString(raw.reason)
				? { type: 'session.ended', sessionId: raw.session_id ?? null, reason: raw.reason ?? null, raw }
				: null,
		identity: () => 'ended',
		example: { type: 'session.ended', session_id: 'sess_1', reason: 'explicit_end' },
	}),
} satisfies { [K in FrameType]: FrameSpec<K> };

/** The table as the compiler sees each entry: spec K for frame type K. */
const frames: { [K in FrameType]: FrameSpec<K> } = STREAM_FRAMES;
export const FRAME_TYPES = Object.keys(STREAM_FRAMES) as FrameType[];

const isFrameType = (type: string): type is FrameType => Object.hasOwn(STREAM_FRAMES, type);

/** Reads the envelope every frame shares; `raw` is the frame, or why it is not one. */
function readFrame(text: string): { raw: Raw; type: string } | ParsedFrame {
	let json: unknown;
	try {
		json = JSON.parse(text);
	} catch {
		return { ok: false, problem: 'invalid_json', detail: 'frame is not valid JSON' };
	}
	if (typeof json !== 'object' || json === null || Array.isArray(json)) {
		return { ok: false, problem: 'schema', detail: 'frame is not a JSON object' };
	}
	const raw = json as Raw;
	if (typeof raw.type !== 'string' || raw.type === '') {
		return { ok: false, problem: 'schema', detail: 'frame has no "type"' };
	}
	return { raw, type: raw.type };
}

/** The schema's verdict on a frame of a known type. */
function bySchema<K extends FrameType>(type: K, raw: Raw): ParsedFrame {
	const spec = frames[type];
	const parsed = spec.schema.safeParse(raw);
	if (!parsed.success) {
		const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)');
		return { ok: false, problem: 'schema', detail: `${type} frame has invalid fields: ${[...new Set(fields)].join(', ')}` };
	}
	return { ok: true, event: spec.fromSchema(parsed.data, raw) as StreamEvent };
}

/**
 * Parses one text frame. Never throws: a bad frame comes back as a problem the caller counts.
 * `detail` says what was wrong without quoting the frame (it may hold a caller's words).
 */
export function parseServerFrame(text: string): ParsedFrame {
	const frame = readFrame(text);
	if ('ok' in frame) return frame;
	const { raw, type } = frame;
	if (!isFrameType(type)) return { ok: true, event: { type: 'unknown', wireType: type, raw } };
	const event = frames[type].fast(raw) as StreamEvent | null;
	return event ? { ok: true, event } : bySchema(type, raw);
}

/** @internal parseServerFrame by the zod schemas alone: the reference the hot path is tested against. */
export function parseServerFrameBySchema(text: string): ParsedFrame {
	const frame = readFrame(text);
	if ('ok' in frame) return frame;
	const { raw, type } = frame;
	if (!isFrameType(type)) return { ok: true, event: { type: 'unknown', wireType: type, raw } };
	return bySchema(type, raw);
}

function identityOf<K extends FrameType>(event: FrameEvent<K>): EventIdentity | null {
	return frames[event.type].identity(event);
}

/** What makes two events the same (the table's `identity`); unknown events have none. */
export function eventIdentity(event: StreamEvent): EventIdentity | null {
	return event.type === 'unknown' ? null : identityOf(event);
}
