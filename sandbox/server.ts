/**
 * KallglotSandbox: a local HTTP + WebSocket server that follows Kallglot's API (REST,
 * stream WebSocket, signed webhooks), with recording and fault injection for tests.
 *
 * Routing: `/v1/*` → RestApi, `/_sandbox/*` → ControlApi, WebSocket upgrades → StreamHub.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { seedAgents } from './agents';
import { ControlApi } from './control';
import { RestFaultQueue, StreamFaultRegistry } from './faults';
import { sendJson } from './http-util';
import { IdempotencyStore } from './idempotency';
import { createRateLimiter } from './rate-limit';
import { RestApi } from './rest';
import { PostCallStore } from './post-call';
import { playCall, playFinals, type CallStage } from './script';
import { durationSeconds, sessionResource, StreamTokenRegistry, type StreamTicket } from './sessions';
import { AudioListener, type AudioIntake } from './listening';
import { StreamHub } from './stream';
import { WebhookDeliverer, type WebhookAttempt, type WebhookEndpoint, type WebhookEnvelope, type WebhookFaults } from './webhooks';
import type {
	Agent,
	FinalsOptions,
	PlayOptions,
	RecordedHandshake,
	RecordedRequest,
	RestFault,
	SandboxOptions,
	SandboxSession,
	StreamFaults,
} from './types';

/**
 * Default API key of the sandbox. Its `sk_sandbox_` prefix is no Kallglot key's (those are
 * sk_live_ / sk_test_): the nodes accept plain http:// to a non-loopback host (the
 * sandbox on the Docker host, in another container) only for keys that carry it.
 */
export const SANDBOX_API_KEY = 'sk_sandbox_4f7c2a9e1b8d6035';

const DEFAULT_HOST = '127.0.0.1';
/** Bound to every interface, the sandbox names itself by loopback in its own URLs. */
const WILDCARD_HOSTS: Record<string, string> = { '0.0.0.0': '127.0.0.1', '::': '[::1]' };

/** `host` as it goes in a URL: IPv6 addresses in brackets. */
function urlHost(host: string): string {
	return WILDCARD_HOSTS[host] ?? (host.includes(':') && !host.startsWith('[') ? `[${host}]` : host);
}

/** A Host header fit for a URL (host or [v6] with an optional port), else null. */
function requestOrigin(host: string | undefined): string | null {
	return host !== undefined && /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/.test(host) ? host : null;
}

const DEFAULT_TOKEN_TTL_MS = 5 * 60 * 1000;
const DEFAULT_AGENT_COUNT = 25;
const DEFAULT_PROCESSING_MS = 1500;

export interface SandboxStats {
	openStreams: number;
	sessions: Array<{ id: string; status: string; framesSent: number; connections: number; openConnections: number }>;
	/** null when unlimited (JSON has no Infinity). */
	credits: number | null;
}

export class KallglotSandbox {
	/** REST base, e.g. http://127.0.0.1:4010/v1 */
	readonly baseUrl: string;
	/** WebSocket base used in `stream.url`, e.g. ws://127.0.0.1:4010/v1 */
	readonly streamBaseUrl: string;
	/** Control endpoints base, e.g. http://127.0.0.1:4010/_sandbox */
	readonly controlUrl: string;
	readonly port: number;
	/** SandboxOptions.publicUrl without a trailing slash, or null. */
	readonly publicOrigin: string | null;
	readonly apiKey: string;
	readonly apiKeys: readonly string[];
	readonly requests: RecordedRequest[] = [];
	readonly handshakes: RecordedHandshake[] = [];
	sessions = new Map<string, SandboxSession>();
	agents: Agent[];
	credits: number;
	creditsUsed = 0;
	/** Recordings and analyses. */
	readonly postCall: PostCallStore;
	/** Signed webhook delivery. */
	readonly webhooks: WebhookDeliverer;
	/** See SandboxOptions.streamOnlyWhileActive; may be changed at any time. */
	streamOnlyWhileActive: boolean;

	private readonly tokens: StreamTokenRegistry;
	private readonly restFaults = new RestFaultQueue();
	private readonly streamFaults = new StreamFaultRegistry();
	private readonly shutdown = new AbortController();
	private readonly hub: StreamHub;
	private readonly rest: RestApi;
	private readonly control: ControlApi;
	private closing: Promise<void> | null = null;
	/** Sessions that received audio.input, and what the sandbox heard in them. */
	private readonly listeners = new Map<string, AudioListener>();

	static async start(options: SandboxOptions = {}): Promise<KallglotSandbox> {
		const server = createServer();
		await new Promise<void>((resolve, reject) => {
			server.once('error', reject);
			server.listen(options.port ?? 0, options.host ?? DEFAULT_HOST, () => {
				server.off('error', reject);
				resolve();
			});
		});
		return new KallglotSandbox(server, options);
	}

	private constructor(
		private readonly server: Server,
		options: SandboxOptions,
	) {
		this.port = (server.address() as AddressInfo).port;
		const origin = options.publicUrl?.replace(/\/+$/, '') ?? `http://${urlHost(options.host ?? DEFAULT_HOST)}:${this.port}`;
		this.publicOrigin = options.publicUrl === undefined ? null : origin;
		this.baseUrl = `${origin}/v1`;
		this.streamBaseUrl = `${origin.replace(/^http/, 'ws')}/v1`;
		this.controlUrl = `${origin}/_sandbox`;
		this.apiKeys = options.apiKeys !== undefined && options.apiKeys.length > 0 ? [...options.apiKeys] : [SANDBOX_API_KEY];
		this.apiKey = this.apiKeys[0];
		this.credits = options.credits ?? Infinity;
		this.streamOnlyWhileActive = options.streamOnlyWhileActive ?? false;
		this.agents = seedAgents(options.agents ?? DEFAULT_AGENT_COUNT);
		this.tokens = new StreamTokenRegistry(options.tokenTtlMs ?? DEFAULT_TOKEN_TTL_MS);
		const log = options.logger ?? ((): void => undefined);
		this.postCall = new PostCallStore({
			recordingProcessingMs: options.recordingProcessingMs ?? DEFAULT_PROCESSING_MS,
			analysisProcessingMs: options.analysisProcessingMs ?? DEFAULT_PROCESSING_MS,
			now: options.processingNow,
			onEvent: (type, data) => this.emitWebhook(type, data),
		});
		this.webhooks = new WebhookDeliverer({
			retryDelaysMs: options.webhookRetryDelaysMs,
			timeoutMs: options.webhookTimeoutMs,
			log,
		});
		if (options.webhooks !== undefined && options.webhooks !== null) this.webhooks.configure(options.webhooks);

		this.hub = new StreamHub({
			sessions: this.sessions,
			tokens: this.tokens,
			faults: this.streamFaults,
			handshakes: this.handshakes,
			onClientEnd: (sessionId) => this.endSession(sessionId, 'explicit_end'),
			onSessionStarted: (session) => this.emitSessionEvent('session.started', session),
			onAudioInput: (session, chunk) => this.listenerOf(session).accept(chunk),
			log,
		});
		this.rest = new RestApi(this, {
			apiKeys: this.apiKeys,
			keyProfiles: options.keyProfiles,
			limiter: createRateLimiter(options.rateLimit ?? null),
			idempotency: new IdempotencyStore(),
			faults: this.restFaults,
			requests: this.requests,
			shutdown: this.shutdown.signal,
			log,
		});
		this.control = new ControlApi(this);

		server.on('request', (req: IncomingMessage, res: ServerResponse) => this.onRequest(req, res));
		server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.hub.handleUpgrade(req, socket, head));
	}

	private onRequest(req: IncomingMessage, res: ServerResponse): void {
		const url = new URL(req.url ?? '/', `http://${DEFAULT_HOST}`);
		const path = url.pathname;
		let handling: Promise<void>;
		if (path === '/v1' || path.startsWith('/v1/')) handling = this.rest.handle(req, res, url);
		else if (path.startsWith('/_sandbox/')) handling = this.control.handle(req, res, url);
		else handling = Promise.resolve(sendJson(res, 404, { error: `not found: ${path} (the API lives under /v1)` }));
		handling.catch((error: unknown) => {
			if (!res.headersSent) sendJson(res, 500, { error: error instanceof Error ? error.message : String(error) });
			else res.destroy();
		});
	}

	/**
	 * A fresh `stream` object: every call issues a new token. Its URL names the
	 * host the client used (`requestHost`, the request's Host header), so a client that reached
	 * the sandbox as host.docker.internal or by a container name gets a stream it can reach; a
	 * publicUrl, when set, wins.
	 */
	issueStreamTicket(session: SandboxSession, requestHost?: string): StreamTicket {
		const { token, expiresAt } = this.tokens.issue(session.id);
		const host = this.publicOrigin === null ? requestOrigin(requestHost) : null;
		const base = host === null ? this.streamBaseUrl : `ws://${host}/v1`;
		return { url: `${base}/sessions/${session.id}/connect`, token, expires_at: expiresAt.toISOString() };
	}

	/** GET's `stream`: none once ended, and (streamOnlyWhileActive) none before the call started. */
	retrievedStream(session: SandboxSession, requestHost?: string): StreamTicket | null {
		if (session.status === 'ended') return null;
		if (this.streamOnlyWhileActive && session.status !== 'active') return null;
		return this.issueStreamTicket(session, requestHost);
	}

	/** The call of a `created` session starts: it becomes `active` (and GET shows its `stream`). */
	startCall(sessionId: string): void {
		const session = this.sessions.get(sessionId);
		if (session === undefined) throw new Error(`startCall: unknown session ${sessionId}`);
		if (session.status !== 'created') return;
		this.startSession(session);
	}

	/** Currently open WebSocket connections (all sessions, or one). */
	openStreamCount(sessionId?: string): number {
		return this.hub.openCount(sessionId);
	}

	/** Queues a REST fault; faults apply in injection order to matching /v1 requests. */
	injectFault(fault: RestFault): void {
		this.restFaults.add(fault);
	}

	clearFaults(): void {
		this.restFaults.clear();
		this.streamFaults.clear();
		this.webhooks.setFaults({});
	}

	/** Replaces the stream faults of a session (or of every session with '*'); `{}` clears them. */
	setStreamFaults(sessionId: string | '*', faults: StreamFaults): void {
		this.streamFaults.set(sessionId, faults);
	}

	/** Raw injection to every open socket of the session: objects as JSON, strings as-is. */
	sendFrame(sessionId: string, frame: unknown): void {
		if (!this.sessions.has(sessionId)) throw new Error(`sendFrame: unknown session ${sessionId}`);
		this.hub.broadcast(sessionId, frame);
	}

	/** Plays the session's scripted call (see script.ts callScriptFor). Resolves when done, ended, or closed. */
	play(sessionId: string, options: PlayOptions = {}): Promise<void> {
		const session = this.sessions.get(sessionId);
		if (session === undefined) return Promise.reject(new Error(`play: unknown session ${sessionId}`));
		if (session.status === 'ended') return Promise.reject(new Error(`play: session ${sessionId} has ended`));
		return playCall(this.stage(session), session, options);
	}

	/** Paced or burst finals (see script.ts playFinals). Resolves when sent, ended, or closed. */
	sendFinals(sessionId: string, options: FinalsOptions): Promise<void> {
		const session = this.sessions.get(sessionId);
		if (session === undefined) return Promise.reject(new Error(`sendFinals: unknown session ${sessionId}`));
		return playFinals(this.stage(session), session, options);
	}

	private stage(session: SandboxSession): CallStage {
		return {
			signal: this.shutdown.signal,
			hasListener: (id) => this.hub.openCount(id) > 0,
			waitForListener: (id, signal) => this.hub.waitForListener(id, signal),
			broadcast: (id, frame) => {
				this.startSession(session);
				if (frame.type === 'transcript.final') this.emitSegment(session);
				return this.hub.broadcast(id, frame);
			},
			endSession: (id, reason) => this.endSession(id, reason),
		};
	}

	private listenerOf(session: SandboxSession): AudioListener {
		let listener = this.listeners.get(session.id);
		if (listener === undefined) {
			const stage = this.stage(session);
			listener = new AudioListener(session, { broadcast: (frame) => void stage.broadcast(session.id, frame), now: () => Date.now() });
			this.listeners.set(session.id, listener);
		}
		return listener;
	}

	/** How much audio a session received and how fast it arrived compared with real time; null when it got none. */
	audioIntake(sessionId: string): AudioIntake | null {
		return this.listeners.get(sessionId)?.intake() ?? null;
	}

	/**
	 * Ends a session: pushes `session.ended` to its open sockets (unless `announce: false`: the
	 * stream just closes), then closes them with 1000. Ending an ended session does nothing.
	 */
	endSession(sessionId: string, reason = 'ended_by_api', { announce = true }: { announce?: boolean } = {}): void {
		const session = this.sessions.get(sessionId);
		if (session === undefined) throw new Error(`endSession: unknown session ${sessionId}`);
		if (session.status === 'ended') return;
		// Kallglot finalizes the transcript at the end: what was still being spoken becomes a turn.
		this.listeners.get(sessionId)?.flush();
		session.status = 'ended';
		session.endedAt = new Date();
		session.endReason = reason;
		if (announce) this.hub.broadcast(sessionId, { type: 'session.ended', session_id: sessionId, reason });
		this.hub.closeSession(sessionId, 1000, reason);
		this.emitSessionEvent('session.ended', session, { duration_seconds: durationSeconds(session), end_reason: reason });
		this.emitWebhook('transcript.ready', {
			object: 'transcript',
			id: `trn_${session.id.slice('sess_'.length)}`,
			session_id: session.id,
			status: 'completed',
			total_turns: session.transcript.length,
		});
		this.postCall.sessionEnded(session);
	}

	// ---- webhooks -----------------------------------------------------------------------------

	/** Every webhook attempt so far (event id, type, webhook id, retry count, status, ms…). */
	get webhookDeliveries(): readonly WebhookAttempt[] {
		return this.webhooks.attempts;
	}

	/** Sets the endpoint events go to (null: stop delivering). */
	configureWebhooks(endpoint: WebhookEndpoint | null): void {
		this.webhooks.configure(endpoint);
	}

	/** Replaces the webhook fault counters; `{}` clears them. */
	setWebhookFaults(faults: WebhookFaults): void {
		this.webhooks.setFaults(faults);
	}

	/** Emits any event (also types the sandbox never produces itself); null when not delivered. */
	emitWebhook(type: string, data: Record<string, unknown>): WebhookEnvelope | null {
		return this.webhooks.emit(type, data);
	}

	/** RestBackend hook: `session.created`. */
	sessionCreated(session: SandboxSession): void {
		this.emitSessionEvent('session.created', session);
	}

	/** A session.* event: the session as GET returns it, without a stream token. */
	private emitSessionEvent(type: string, session: SandboxSession, extra: Record<string, unknown> = {}): void {
		this.emitWebhook(type, { ...sessionResource(session, null, 'retrieved'), ...extra });
	}

	/** The call's first audio starts the session (also with no stream listener: a played phone call). */
	private startSession(session: SandboxSession): void {
		if (session.startedAt !== null || session.status === 'ended') return;
		session.status = 'active';
		session.startedAt = new Date();
		this.emitSessionEvent('session.started', session);
	}

	/** transcript.segment for the final just added to the transcript. */
	private emitSegment(session: SandboxSession): void {
		const turn = session.transcript[session.transcript.length - 1];
		if (turn === undefined) return;
		this.emitWebhook('transcript.segment', {
			object: 'transcript_segment',
			session_id: session.id,
			sequence: turn.sequence,
			speaker: turn.speaker,
			language: turn.language,
			text: turn.text,
			translation: turn.translation ?? null,
			timestamp: turn.timestamp,
		});
	}

	/** Test helper: resolves when no webhook delivery is in flight or waiting to retry. */
	webhooksIdle(): Promise<void> {
		return this.webhooks.idle();
	}

	stats(): SandboxStats {
		return {
			openStreams: this.hub.openCount(),
			sessions: [...this.sessions.values()].map((s) => ({
				id: s.id,
				status: s.status,
				framesSent: s.framesSent,
				connections: s.connectionsAccepted,
				openConnections: this.hub.openCount(s.id),
			})),
			credits: Number.isFinite(this.credits) ? this.credits : null,
		};
	}

	clearRequests(): void {
		this.requests.length = 0;
	}

	/** Stops playback, terminates every socket and closes the server. Safe to call twice. */
	close(): Promise<void> {
		this.closing ??= new Promise<void>((resolve) => {
			this.shutdown.abort();
			this.postCall.close();
			this.hub.terminateAll();
			const delivering = this.webhooks.close();
			this.server.close(() => void delivering.then(() => resolve()));
			this.server.closeAllConnections();
		});
		return this.closing;
	}
}
