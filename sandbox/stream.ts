/**
 * The stream WebSocket: `/v1/sessions/{id}/connect?token=kst_…`.
 *
 * Handshakes are checked here and refused with a plain HTTP status + JSON error body (404 unknown
 * session, 410 ended, 401 token problems, or an injected status). Accepted connections get
 * `session.ready`; client frames (ping, session.end, audio.input) are answered as Kallglot answers them.
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { ApiError } from './errors';
import { newRequestId } from './ids';
import type { StreamFaultRegistry } from './faults';
import type { StreamTokenRegistry } from './sessions';
import type { AudioChunkIn } from './listening';
import { isPlainObject, validateAudioInput } from './validation';
import type { JsonObject, RecordedHandshake, SandboxSession } from './types';

/** Client frames above this size are refused by `ws` (close 1009): audio chunks are ~2 KB. */
const MAX_CLIENT_FRAME_BYTES = 1024 * 1024;
/** Keeps `session.clientFrames` bounded on long-running CLI sessions. */
const MAX_RECORDED_CLIENT_FRAMES = 10_000;
const CONNECT_PATH = /^\/v1\/sessions\/([^/]+)\/connect$/;

interface StreamConnection {
	ws: WebSocket;
	sessionId: string;
	/** Frames written on this connection (dropAfterFrames counts these). */
	framesSent: number;
}

export interface StreamHubDeps {
	sessions: Map<string, SandboxSession>;
	tokens: StreamTokenRegistry;
	faults: StreamFaultRegistry;
	handshakes: RecordedHandshake[];
	/** A client sent `session.end`: the owner ends the session (reason `explicit_end`). */
	onClientEnd(sessionId: string): void;
	/** The first connection of a `created` session made it `active`. */
	onSessionStarted(session: SandboxSession): void;
	/** A valid audio.input frame arrived (the sandbox listens to it: listening.ts). */
	onAudioInput?(session: SandboxSession, chunk: AudioChunkIn): void;
	log(line: string): void;
}

export class StreamHub {
	private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_FRAME_BYTES });
	/** Open connections per session. A connection leaves the set the moment it stops being usable. */
	private readonly connections = new Map<string, Set<StreamConnection>>();
	private readonly listenerWaiters = new Map<string, Set<() => void>>();
	/** Sockets that got a refusal response, destroyed on close() if the client keeps them open. */
	private readonly refusedSockets = new Set<Duplex>();

	constructor(private readonly deps: StreamHubDeps) {}

	handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
		socket.on('error', () => undefined); // a client resetting mid-handshake is not a sandbox failure
		const url = new URL(req.url ?? '/', 'http://127.0.0.1');
		const match = CONNECT_PATH.exec(url.pathname);
		const sessionId = match === null ? '' : decodeURIComponent(match[1]);
		const token = url.searchParams.get('token');
		const refusal = this.checkHandshake(match !== null, sessionId, token);

		this.deps.handshakes.push({ sessionId, token, status: refusal?.status ?? 101, at: Date.now() });
		this.deps.log(`WS  ${url.pathname} → ${refusal?.status ?? 101}`);
		if (refusal !== null) {
			this.refuse(socket, refusal);
			return;
		}
		this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, sessionId));
	}

	private checkHandshake(pathMatched: boolean, sessionId: string, token: string | null): ApiError | null {
		if (!pathMatched) return new ApiError(404, 'not_found', 'No stream at this path; use stream.url from the session.');
		const injected = this.deps.faults.takeHandshakeRefusal(sessionId);
		if (injected !== undefined) return new ApiError(injected, 'handshake_refused', 'Stream handshake refused (sandbox fault).');
		const session = this.deps.sessions.get(sessionId);
		if (session === undefined) return new ApiError(404, 'session_not_found', `No session ${sessionId}.`);
		// Ended before token problems: a client holding an old token must learn to stop reconnecting.
		if (session.status === 'ended') return new ApiError(410, 'session_ended', `Session ${sessionId} has ended.`);
		switch (this.deps.tokens.check(sessionId, token)) {
			case 'ok':
				return null;
			case 'missing':
				return new ApiError(401, 'invalid_stream_token', 'The token query parameter is required.');
			case 'expired':
				return new ApiError(
					401,
					'expired_stream_token',
					'The stream token has expired; get a fresh one from GET /v1/sessions/{id}.',
				);
			default:
				return new ApiError(401, 'invalid_stream_token', 'The stream token is not valid for this session.');
		}
	}

	private refuse(socket: Duplex, error: ApiError): void {
		const body = JSON.stringify(error.toEnvelope(newRequestId()));
		this.refusedSockets.add(socket);
		socket.once('close', () => this.refusedSockets.delete(socket));
		socket.end(
			`HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}\r\n` +
				'Content-Type: application/json; charset=utf-8\r\n' +
				`Content-Length: ${Buffer.byteLength(body)}\r\n` +
				'Connection: close\r\n\r\n' +
				body,
		);
	}

	private accept(ws: WebSocket, sessionId: string): void {
		const session = this.deps.sessions.get(sessionId);
		if (session === undefined || session.status === 'ended') {
			ws.close(1011, 'session unavailable');
			return;
		}
		const connection: StreamConnection = { ws, sessionId, framesSent: 0 };
		this.connectionsOf(sessionId).add(connection);
		session.connectionsAccepted++;
		const firstStart = session.startedAt === null;
		if (session.status === 'created') session.status = 'active';
		session.startedAt ??= new Date();

		ws.on('message', (data, isBinary) => this.onClientFrame(connection, session, data, isBinary));
		ws.on('close', () => this.forget(connection));
		ws.on('error', () => this.forget(connection));

		this.send(connection, { type: 'session.ready', session_id: sessionId });
		if (session.connectionsAccepted > 1) {
			const replayCount = this.deps.faults.takeReplayCount(sessionId);
			for (const frame of replayCount > 0 ? session.sentScriptFrames.slice(-replayCount) : []) this.send(connection, frame);
		}
		this.wakeListenerWaiters(sessionId);
		if (firstStart) this.deps.onSessionStarted(session);
	}

	private connectionsOf(sessionId: string): Set<StreamConnection> {
		let set = this.connections.get(sessionId);
		if (set === undefined) {
			set = new Set();
			this.connections.set(sessionId, set);
		}
		return set;
	}

	private forget(connection: StreamConnection): void {
		const set = this.connections.get(connection.sessionId);
		set?.delete(connection);
		if (set?.size === 0) this.connections.delete(connection.sessionId);
	}

	/** Writes one frame (object → JSON, string as-is), applying the session's stream faults. */
	private send(connection: StreamConnection, frame: unknown): boolean {
		const { ws, sessionId } = connection;
		if (ws.readyState !== WebSocket.OPEN || this.deps.faults.isSilent(sessionId)) return false;
		const data = typeof frame === 'string' ? frame : JSON.stringify(frame);
		connection.framesSent++;
		const session = this.deps.sessions.get(sessionId);
		if (session !== undefined) session.framesSent++;

		if (this.deps.faults.takeDrop(sessionId, connection.framesSent)) {
			// Forget it now, so the script pauses for a reconnect instead of writing into a dead socket;
			// terminate once this frame is flushed: an abrupt TCP close, no close frame (client sees 1006).
			this.forget(connection);
			ws.send(data, () => ws.terminate());
		} else {
			ws.send(data);
		}
		return true;
	}

	private sendError(connection: StreamConnection, code: string, message: string): void {
		this.send(connection, { type: 'session.error', code, message });
	}

	private onClientFrame(connection: StreamConnection, session: SandboxSession, data: RawData, isBinary: boolean): void {
		if (session.status === 'ended') return;
		if (isBinary) {
			this.sendError(connection, 'invalid_json', 'Binary frames are not supported; send JSON text frames.');
			return;
		}
		let frame: unknown;
		try {
			frame = JSON.parse(rawDataToString(data));
		} catch {
			this.sendError(connection, 'invalid_json', 'The frame is not valid JSON.');
			return;
		}
		if (!isPlainObject(frame)) {
			this.sendError(connection, 'invalid_json', 'A frame must be a JSON object with a "type".');
			return;
		}
		switch (frame.type) {
			case 'ping':
				this.recordClientFrame(session, frame);
				if (!this.deps.faults.ignoresPings(session.id)) this.send(connection, { type: 'pong', session_id: session.id });
				return;
			case 'session.end':
				this.recordClientFrame(session, frame);
				this.deps.onClientEnd(session.id);
				return;
			case 'audio.input': {
				const audio = validateAudioInput(frame);
				if (!audio.ok) {
					this.sendError(connection, 'invalid_audio_format', `${audio.issue.message} Expected μ-law 8000 Hz mono, base64.`);
					return;
				}
				// Keep a summary, not the payload: tests assert on order and counts.
				this.recordClientFrame(session, {
					type: 'audio.input',
					sequence: frame.sequence,
					timestamp_ms: frame.timestamp_ms,
					speaker: audio.value.speaker,
					bytes: audio.value.payloadBytes,
				});
				this.deps.onAudioInput?.(session, {
					sequence: typeof frame.sequence === 'number' ? frame.sequence : 0,
					timestampMs: typeof frame.timestamp_ms === 'number' ? frame.timestamp_ms : 0,
					speaker: audio.value.speaker,
					payload: Buffer.from((frame.audio as { payload: string }).payload, 'base64'),
				});
				return;
			}
			default:
				this.sendError(
					connection,
					'unknown_event_type',
					typeof frame.type === 'string' ? `Unknown event type "${frame.type}".` : 'The frame has no "type".',
				);
		}
	}

	private recordClientFrame(session: SandboxSession, frame: JsonObject): void {
		if (session.clientFrames.length < MAX_RECORDED_CLIENT_FRAMES) session.clientFrames.push(frame);
	}

	/** Sends to every open socket of the session; returns how many sockets were open. */
	broadcast(sessionId: string, frame: unknown): number {
		const open = [...(this.connections.get(sessionId) ?? [])].filter((c) => c.ws.readyState === WebSocket.OPEN);
		for (const connection of open) this.send(connection, frame);
		return open.length;
	}

	openCount(sessionId?: string): number {
		const sets = sessionId === undefined ? [...this.connections.values()] : [this.connections.get(sessionId) ?? new Set()];
		let count = 0;
		for (const set of sets) for (const c of set) if (c.ws.readyState === WebSocket.OPEN) count++;
		return count;
	}

	/** Closing handshake on every socket of the session (after `session.ended` was sent). */
	closeSession(sessionId: string, code: number, reason: string): void {
		for (const connection of this.connections.get(sessionId) ?? []) connection.ws.close(code, reason.slice(0, 120));
		this.wakeListenerWaiters(sessionId);
	}

	/** Resolves when a socket of the session opens or the session ends; rejects when `signal` aborts. */
	waitForListener(sessionId: string, signal: AbortSignal): Promise<void> {
		if (signal.aborted) return Promise.reject(signal.reason);
		return new Promise((resolve, reject) => {
			let waiters = this.listenerWaiters.get(sessionId);
			if (waiters === undefined) {
				waiters = new Set();
				this.listenerWaiters.set(sessionId, waiters);
			}
			const set = waiters;
			const cleanup = (): void => {
				set.delete(wake);
				signal.removeEventListener('abort', onAbort);
			};
			const wake = (): void => {
				cleanup();
				resolve();
			};
			const onAbort = (): void => {
				cleanup();
				reject(signal.reason);
			};
			set.add(wake);
			signal.addEventListener('abort', onAbort, { once: true });
		});
	}

	private wakeListenerWaiters(sessionId: string): void {
		for (const wake of [...(this.listenerWaiters.get(sessionId) ?? [])]) wake();
	}

	/** Abrupt end of every socket (sandbox shutdown). */
	terminateAll(): void {
		for (const set of this.connections.values()) for (const c of set) c.ws.terminate();
		this.connections.clear();
		for (const socket of this.refusedSockets) socket.destroy();
		this.refusedSockets.clear();
		this.wss.close();
	}
}

function rawDataToString(data: RawData): string {
	if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
	if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
	return data.toString('utf8');
}
