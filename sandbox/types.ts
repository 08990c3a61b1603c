import type { WebhookEndpoint } from './webhooks';

/**
 * Shared types of the Kallglot sandbox. Wire shapes follow Kallglot's API;
 * everything here is the sandbox's own reading of it (nothing is imported from nodes/).
 */

export const SESSION_MODES = [
	'bidirectional_translation',
	'assistive_translation',
	'ai_agent',
	'help_chat_voice',
] as const;
export type SessionMode = (typeof SESSION_MODES)[number];

export type SessionStatus = 'created' | 'active' | 'ended';
export type Provider = 'twilio' | 'telnyx' | 'sip' | 'webrtc';
export type Speaker = 'customer' | 'agent';
export type JsonObject = Record<string, unknown>;

export type RateLimitModel = 'fixed-window' | 'token-bucket';

export interface RateLimitOptions {
	limit: number;
	windowMs: number;
	/**
	 * 'fixed-window' (default): `limit` requests per window, the window starting with its first
	 * request. 'token-bucket': a bucket of `limit` tokens, refilled continuously at `limit` per
	 * `windowMs`. Both report X-RateLimit-Limit / -Remaining / -Reset (whole unix seconds, rounded
	 * up: the window's end, or when the bucket is full again) and a 429's Retry-After.
	 */
	model?: RateLimitModel;
	/** Fixed Retry-After value; default: seconds until the window resets (bucket: until a token is back). */
	retryAfterSeconds?: number;
	/**
	 * How the 429's Retry-After header is written; default 'seconds'. 'http-date' sends an
	 * RFC 9110 HTTP-date (e.g. "Tue, 01 Dec 2026 19:12:21 GMT") and no retry_after in the envelope.
	 */
	retryAfterFormat?: 'seconds' | 'http-date';
	/**
	 * The limiter's clock, ms since the epoch; default Date.now. Tests pass a fake clock's `now`
	 * so that windows, X-RateLimit-Reset and Retry-After follow the time they move.
	 */
	now?: () => number;
}

export interface ApiKeyProfile {
	state?: 'active' | 'expired' | 'revoked';
	/** Scopes the key has (sessions:read, sessions:write, recordings:read, analysis:read); default all. */
	scopes?: string[];
}

export interface SandboxOptions {
	/** TCP port; default 0 (ephemeral). */
	port?: number;
	/**
	 * Address to listen on; default 127.0.0.1. `0.0.0.0` (or a LAN address) lets n8n in a Docker
	 * container reach a sandbox on the host, or a sandbox container be reached by its name.
	 */
	host?: string;
	/**
	 * The origin clients use, e.g. https://sandbox.example behind a TLS proxy: the base URL and
	 * every `stream.url` are built from it. Default: `stream.url` names the host of each request.
	 */
	publicUrl?: string;
	/** Accepted API keys; default [SANDBOX_API_KEY]. The first one is `sandbox.apiKey`. */
	apiKeys?: string[];
	/**
	 * Extra API keys with a profile: `state` expired/revoked answers 401 expired_api_key /
	 * revoked_api_key; `scopes` limits the key (403 insufficient_permissions elsewhere).
	 */
	keyProfiles?: Record<string, ApiKeyProfile>;
	/** API credits; each successful POST /v1/sessions costs 1. Default Infinity. */
	credits?: number;
	/** Fixed-window rate limit per API key; default null (not enforced). */
	rateLimit?: RateLimitOptions | null;
	/** Stream token lifetime; default 5 minutes, as Kallglot's. */
	tokenTtlMs?: number;
	/** Number of seeded agents; default 25. */
	agents?: number;
	/** Optional one-line log of every request and handshake (the CLI prints them). */
	logger?: (line: string) => void;
	/** How long a recording stays `processing` after its session ended; default 1500 ms. */
	recordingProcessingMs?: number;
	/** How long an analysis stays `processing`; default 1500 ms. */
	analysisProcessingMs?: number;
	/**
	 * The clock of that processing, ms since the epoch; default Date.now, with a timer finishing
	 * each recording and analysis. Given (tests pass a fake clock's `now`), no timer is armed: one
	 * whose processing time has passed on this clock finishes, at that time and with its webhook
	 * event, when it is next read (a REST request, `postCall.recordings|analyses|recordingsOf`) or
	 * on `postCall.settle()`.
	 */
	processingNow?: () => number;
	/** Where signed webhooks go; default none (configure later with configureWebhooks). */
	webhooks?: WebhookEndpoint | null;
	/** Waits before webhook retries; default 8 attempts, 0.1 s doubling (Kallglot: ~41 h). */
	webhookRetryDelaysMs?: number[];
	/** A webhook attempt without an answer in this time is retried; default 30000. */
	webhookTimeoutMs?: number;
	/**
	 * GET /v1/sessions/{id} returns `stream` only for `active` sessions (as Kallglot
	 * does); a `created` session becomes active when its call starts (`startCall`) or when a
	 * client connects with the token from create. Default false: `stream` while not ended.
	 */
	streamOnlyWhileActive?: boolean;
}

/** Every REST request received under /v1 (including faulted and rejected ones). */
export interface RecordedRequest {
	method: string;
	path: string;
	query: Record<string, string>;
	/** Lower-cased header names, raw values (repeated headers joined with ", "). */
	headers: Record<string, string>;
	/** Parsed JSON, the raw string when it is not JSON, or null when empty. */
	body: unknown;
	/** Status sent; 0 while in progress or when a `drop` fault destroyed the socket. */
	status: number;
	requestId: string;
	/** Epoch milliseconds of arrival. */
	at: number;
	/** Set when an injected RestFault shaped this response. */
	fault?: 'drop' | 'status' | 'delay';
}

export interface RecordedHandshake {
	/** Session id taken from the URL path ('' when the path did not name one). */
	sessionId: string;
	token: string | null;
	/** 101 when accepted, else the refusal status. */
	status: number;
	at: number;
}

export interface RestFault {
	method?: string;
	/** Exact path (with or without the /v1 prefix) or a RegExp tested against the full path. */
	path?: string | RegExp;
	/** How many matching requests this fault applies to; default 1. */
	times?: number;
	status?: number;
	code?: string;
	retryAfter?: number;
	/**
	 * The Retry-After header exactly as sent (e.g. an HTTP-date, or garbage), replacing the one
	 * derived from `retryAfter`; `retryAfter` then only fills the envelope's `retry_after`.
	 */
	retryAfterHeader?: string;
	/** Destroy the socket without any response. */
	drop?: boolean;
	delayMs?: number;
	/**
	 * 'before' (default): the request is not processed. 'after': the request is processed fully
	 * (session created, idempotency stored) and only the response is replaced: the lost-response case.
	 */
	when?: 'before' | 'after';
}

export interface StreamFaults {
	/** Terminate the TCP connection abruptly after N frames were sent on one connection. */
	dropAfterFrames?: number;
	/** How many connections to drop that way; default 1. */
	dropTimes?: number;
	/** Never answer `ping`. */
	ignorePings?: boolean;
	/** Send nothing at all on the connection (not even session.ready). */
	silent?: boolean;
	/** Refuse the next `count` handshakes with `status`. */
	refuseHandshakes?: { count: number; status: number };
	/** On the next reconnection, re-send the last N script frames (duplicates a client must drop). */
	replayOnReconnect?: number;
}

export type TranslationShape = 'object' | 'string' | 'mixed';

export interface PlayOptions {
	/** Delay before each frame; default 40 ms. */
	intervalMs?: number;
	/** How `transcript.final.translation` is sent; default 'object'. */
	translationShape?: TranslationShape;
	/** End the session (reason `call_completed`) after the last frame; default false. */
	endWhenDone?: boolean;
	/** Pause while no socket of the session is open; default true. */
	waitForListener?: boolean;
}

export interface FinalsOptions {
	/** How many finals (utterances of the scripted call, cycled, with growing sequences). */
	count: number;
	/** Delay between finals; 0 (default) sends them all at once, a burst. */
	intervalMs?: number;
	/** Hold them while no socket is open, then deliver (a buffered backlog); default true. */
	waitForListener?: boolean;
	/** End the session (reason `call_completed`) after the last one; default false. */
	endWhenDone?: boolean;
}

export interface Agent {
	id: string;
	object: 'agent';
	name: string;
	description: string;
	created_at: string;
}

export interface Translation {
	language: string;
	text: string;
}

export interface TranscriptTurn {
	sequence: number;
	speaker: Speaker;
	language: string;
	text: string;
	translation?: Translation;
	timestamp: string;
}

export interface SessionRecording {
	enabled: boolean;
	consent_required: boolean;
	mix_mode?: 'dual_channel' | 'mixed';
	consent_state?: 'granted' | 'denied' | 'not_required';
}

export interface SessionCall {
	id: string;
	object: 'call';
	provider: Provider;
	to: string;
	status: 'dialing';
}

export interface SessionAiAgent {
	agent_id: string;
	overrides?: JsonObject;
}

/** A server-to-client script frame (transcript.partial / transcript.final). */
export type ScriptFrame = JsonObject & { type: 'transcript.partial' | 'transcript.final'; sequence: number };

/** The sandbox's record of one session: wire fields plus what tests want to inspect. */
export interface SandboxSession {
	id: string;
	/** API key that created it; other keys get 404 (as a multi-tenant API would answer). */
	ownerApiKey: string;
	status: SessionStatus;
	mode: SessionMode;
	sourceLanguage: string | null;
	targetLanguage: string | null;
	provider: Provider | null;
	phoneNumber: string | null;
	/** The create body exactly as received (routing, audio, voice, unknown fields…). */
	request: JsonObject;
	/** Unknown top-level create fields, accepted for forward compatibility. */
	extraFields: JsonObject;
	recording: SessionRecording;
	aiAgent: SessionAiAgent | null;
	metadata: JsonObject | null;
	call: SessionCall | null;
	createdAt: Date;
	startedAt: Date | null;
	endedAt: Date | null;
	endReason: string | null;
	transcript: TranscriptTurn[];
	/** Next utterance sequence of the scripted call (monotonic from 1). */
	nextSequence: number;
	/** Script frames already delivered, for replayOnReconnect. */
	sentScriptFrames: ScriptFrame[];
	/** Every frame written to any socket of the session. */
	framesSent: number;
	/** WebSocket connections accepted so far. */
	connectionsAccepted: number;
	/** Valid client frames received (ping, audio.input…), in order. */
	clientFrames: JsonObject[];
}

// ---- post-call: recordings and analyses -----------------------------------------------------

export type RecordingChannel = 'agent' | 'customer' | 'mixed';
export type RecordingStatus = 'processing' | 'ready' | 'failed';

/** One recording file of an ended, recorded session (one per channel for `dual_channel`). */
export interface SandboxRecording {
	id: string;
	sessionId: string;
	channel: RecordingChannel;
	status: RecordingStatus;
	createdAt: Date;
	expiresAt: Date;
	/** When `processing` turns into `ready` (or `failed`). */
	processedAt: Date;
	/** The call's duration (the session's `duration_seconds`): the file's length. */
	callSeconds: number;
	/** The session's turns when it ended, on the call's time line: what the audio says, and when. */
	turns: Array<{ speaker: Speaker; text: string; startSeconds: number; endSeconds: number }>;
	error: { code: string; message: string } | null;
}

export const ANALYSIS_PARTS = ['summary', 'sentiment', 'compliance', 'keywords', 'performance'] as const;
export type AnalysisPart = (typeof ANALYSIS_PARTS)[number];
export type AnalysisStatus = 'processing' | 'completed' | 'failed';

export interface SandboxAnalysis {
	id: string;
	sessionId: string;
	ownerApiKey: string;
	status: AnalysisStatus;
	profile: string;
	include: AnalysisPart[];
	createdAt: Date;
	completedAt: Date | null;
	/** The requested parts, filled when completed. */
	result: Partial<Record<AnalysisPart, unknown>>;
	error: { code: string; message: string } | null;
}
