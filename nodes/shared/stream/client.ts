/**
 * KallglotStreamClient: keeps one Kallglot session stream (a WebSocket to session.stream.url) open and turns its frames
 * into StreamEvents.
 *
 * - Every connection attempt asks `resolveEndpoint` for a fresh URL + token (tokens expire five
 *   minutes after issue and are only checked at the handshake).
 * - Unexpected closes, socket errors and a silent stream (keepalive) lead to reconnects with
 *   exponential backoff and jitter. Only consecutive FAILED attempts count: a connection that got
 *   session.ready and then stayed up STABLE_AFTER_MS (5 s) resets the count and the backoff, and
 *   the first retry after such a connection comes within FIRST_RETRY_MAX_MS. A connection that
 *   drops sooner counts as failed, so a server that accepts and drops at once meets the budget.
 * - Frames replayed after a reconnect are dropped by identity (wire.eventIdentity).
 * - Bad frames (invalid JSON, schema, oversized, binary) are counted and skipped; the stream goes on.
 * - One listener of each kind per socket; a socket's listeners are removed before the next socket
 *   is created. No socket callback throws, user callbacks that throw are caught and logged.
 * - Every log line and error message passes through redactSecrets (plus the literal tokens seen).
 * - Time comes from the injected clock: every wait and timeout here is a named timer on it.
 *
 * Plain TypeScript: no n8n import, so it can be tested and reasoned about alone.
 */
import { clientFrames, eventIdentity, streamUrl } from '../wire';
import { redactLiterals, redactSecrets, redactUrl } from '../redact';
import type { Clock } from '../clock';
import { Backoff } from './backoff';
import { RecentIdentities } from './dedupe';
import { StreamClientError, describeError, handshakeError } from './errors';
import { decodeMessage } from './frameData';
import {
	FIRST_RETRY_MAX_MS,
	STABLE_AFTER_MS,
	WAIT_POLL,
	type EndpointResult,
	type StreamClientOptions,
	type StreamClientState,
	type StreamClientStats,
	type StreamLogger,
} from './options';
import type { StreamProblemKind } from './problems';
import { NamedTimers } from './timers';
import { RetiringSockets, WebSocket, openStreamSocket, type RawData } from './socket';

export * from './options';
export * from './problems';

type TimerName = 'connect' | 'ping' | 'watchdog' | 'watchdog-recheck' | 'backoff' | 'stable' | 'poll';

interface Attempt {
	number: number;
	socket: WebSocket | null;
	done: boolean;
	opened(): void;
	failed(error: StreamClientError): void;
	/** Only on the first attempt of start(): the session is not live yet. */
	waiting?(): void;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const LOG_PREFIX = 'Kallglot stream: ';

function positive(name: string, value: number | undefined, fallback: number, integer = false): number {
	if (value === undefined) return fallback;
	if (!(Number.isFinite(value) && value > 0) || (integer && !Number.isInteger(value))) {
		throw new RangeError(`${name} must be a positive ${integer ? 'integer' : 'number'}`);
	}
	return value;
}

export class KallglotStreamClient {
	private readonly options: StreamClientOptions;
	private readonly clock: Clock;
	private readonly pingIntervalMs: number;
	private readonly maxFrameBytes: number;
	private readonly hardMaxPayload: number;
	private readonly connectTimeoutMs: number;
	private readonly maxAttempts: number;
	private readonly stableAfterMs: number;
	private readonly backoff: Backoff;
	private readonly dedupe: RecentIdentities;
	private readonly poll: Backoff;
	private readonly timers: NamedTimers<TimerName>;
	private readonly retiring: RetiringSockets;
	/** The reason resolveEndpoint reported with `ended`, for onEnded. */
	private endedReason: string | null = null;

	private _state: StreamClientState = 'idle';
	private readonly counters: StreamClientStats = {
		framesReceived: 0,
		eventsEmitted: 0,
		duplicatesDropped: 0,
		problems: { invalid_json: 0, schema: 0, oversized: 0, binary: 0 },
		unknownEvents: 0,
		reconnects: 0,
		pingsSent: 0,
	};

	private socket: WebSocket | null = null;
	private attempt: Attempt | null = null;
	private startPromise: Promise<'open' | 'waiting'> | null = null;
	private closePromise: Promise<void> | null = null;
	/** Set by close(): from then on no callback (and no log line) fires. */
	private closed = false;
	/** Tokens handed out by resolveEndpoint (most recent few), redacted literally from every message. */
	private readonly secrets: string[] = [];
	private readonly loggedProblems = new Set<StreamProblemKind>();
	private readonly loggedUnknownTypes = new Set<string>();
	private lastActivity = 0;
	private lostAt = 0;
	private outageAttempts = 0;
	private lastFailure: StreamClientError | null = null;
	/** The current connection got session.ready and lasted stableAfterMs. */
	private connectionStable = false;

	constructor(options: StreamClientOptions) {
		if (typeof options?.resolveEndpoint !== 'function') throw new TypeError('resolveEndpoint must be a function');
		if (typeof options.onEvent !== 'function') throw new TypeError('onEvent must be a function');
		if (typeof options.clock?.setTimeout !== 'function') throw new TypeError('clock must be a Clock');
		this.options = options;
		this.clock = options.clock;
		this.pingIntervalMs = positive('pingIntervalMs', options.pingIntervalMs, 15000);
		this.maxFrameBytes = positive('maxFrameBytes', options.maxFrameBytes, 256 * KiB, true);
		this.hardMaxPayload = Math.max(16 * this.maxFrameBytes, 16 * MiB);
		this.connectTimeoutMs = positive('connectTimeoutMs', options.connectTimeoutMs, 10000);
		const reconnect = options.reconnect ?? {};
		this.maxAttempts = positive('reconnect.maxAttempts', reconnect.maxAttempts, 10, true);
		this.stableAfterMs = positive('reconnect.stableAfterMs', reconnect.stableAfterMs, STABLE_AFTER_MS);
		const random = options.random ?? Math.random;
		this.backoff = new Backoff({ firstDelayMs: FIRST_RETRY_MAX_MS, ...reconnect }, random);
		this.dedupe = new RecentIdentities(positive('dedupeWindow', options.dedupeWindow, 10000, true));
		this.poll = new Backoff({ ...WAIT_POLL, ...options.waitPoll }, random);
		this.timers = new NamedTimers(this.clock, (fn) => this.guard(fn));
		this.retiring = new RetiringSockets(this.clock);
	}

	get state(): StreamClientState {
		return this._state;
	}

	/** A snapshot of the counters. */
	get stats(): StreamClientStats {
		return { ...this.counters, problems: { ...this.counters.problems } };
	}

	/**
	 * First connection. Resolves 'open' when the socket is open and session.ready (or any first
	 * frame) arrived, or 'waiting' when resolveEndpoint says the session is not live yet (the client
	 * then keeps asking, and connects once it is; failures from then on are reconnect attempts).
	 * Rejects with a StreamClientError (unauthorized, not_found, ended, refused, timeout, network,
	 * endpoint, closed); there is no retry here. Repeated calls return the same promise.
	 */
	start(): Promise<'open' | 'waiting'> {
		if (this.startPromise) return this.startPromise;
		if (this._state !== 'idle') {
			this.startPromise = Promise.reject(new StreamClientError('closed', 'Kallglot stream client was closed before start()'));
			return this.startPromise;
		}
		this.startPromise = new Promise<'open' | 'waiting'>((resolve, reject) => {
			this.connect(0, {
				opened: () => {
					this.log('info', 'connected');
					resolve('open');
				},
				waiting: () => resolve('waiting'),
				failed: (error) => {
					if (!this.closed) {
						this.timers.clearAll();
						this._state = error.kind === 'ended' ? 'ended' : 'closed';
					}
					this.log('warn', `could not connect: ${error.message}`);
					reject(error);
				},
			});
		});
		return this.startPromise;
	}

	/**
	 * Stops everything: timers, pending attempt (start() then rejects with kind 'closed'), backoff;
	 * sends close 1000 on an open socket, waits at most `timeoutMs` for the close, then terminates.
	 * Idempotent: repeated calls return the same promise. No callback fires after close().
	 */
	close(timeoutMs = 2000): Promise<void> {
		if (this.closePromise) return this.closePromise;
		this.log('debug', 'closing');
		this.closed = true;
		this._state = 'closed';
		this.detach(true, timeoutMs);
		if (this.attempt) this.failAttempt(this.attempt, new StreamClientError('closed', 'Kallglot stream client was closed'));
		this.closePromise = this.retiring.drain(timeoutMs);
		return this.closePromise;
	}

	/** Sends a client frame (e.g. clientFrames.end()) if the stream is open; false otherwise. */
	send(frame: string): boolean {
		const socket = this.socket;
		if (this._state !== 'open' || !socket || socket.readyState !== WebSocket.OPEN) return false;
		try {
			socket.send(frame);
			return true;
		} catch (error) {
			this.log('warn', `could not send a frame: ${describeError(error)}`);
			return false;
		}
	}

	/**
	 * Where the retry budget stands: `stable` once the open connection counted as a success (it
	 * reset the counter), `failedAttempts` = consecutive failed attempts so far.
	 */
	get budget(): { stable: boolean; failedAttempts: number } {
		return { stable: this.connectionStable, failedAttempts: this.backoff.attempts };
	}

	/**
	 * @internal For tests and diagnostics: the timers currently armed, the listener counts of the
	 * current socket and the number of sockets still closing.
	 */
	diagnostics(): { timers: TimerName[]; socketListeners: Record<string, number> | null; retiringSockets: number } {
		const socket = this.socket;
		return {
			timers: this.timers.names(),
			socketListeners: socket
				? Object.fromEntries(socket.eventNames().map((name) => [String(name), socket.listenerCount(name)]))
				: null,
			retiringSockets: this.retiring.size,
		};
	}

	// -------------------------------------------------------------------------------------------
	// Connection attempts

	private connect(number: number, handlers: Pick<Attempt, 'opened' | 'failed' | 'waiting'>): void {
		const attempt: Attempt = { number, socket: null, done: false, ...handlers };
		this.attempt = attempt;
		this._state = 'connecting';
		this.timers.set('connect', this.connectTimeoutMs, () =>
			this.failAttempt(
				attempt,
				new StreamClientError('timeout', `resolving the stream endpoint took longer than ${this.connectTimeoutMs} ms`),
			),
		);
		let pending: Promise<EndpointResult>;
		try {
			pending = Promise.resolve(this.options.resolveEndpoint(number));
		} catch (error) {
			pending = Promise.reject(error);
		}
		pending.then(
			(result) => this.guard(() => this.onEndpoint(attempt, result)),
			(error) => this.guard(() => this.failAttempt(attempt, this.endpointError(error))),
		);
	}

	private endpointError(error: unknown): StreamClientError {
		if (error instanceof StreamClientError) return error;
		const permanent = typeof error === 'object' && error !== null && (error as { permanent?: unknown }).permanent === true;
		return new StreamClientError('endpoint', this.redact(`could not resolve the stream endpoint: ${describeError(error)}`), {
			permanent,
			cause: error,
		});
	}

	private onEndpoint(attempt: Attempt, result: EndpointResult): void {
		if (attempt.done) return;
		this.timers.clear('connect');
		if (result?.kind === 'ended') {
			this.endedReason = result.reason ?? null;
			this.failAttempt(attempt, new StreamClientError('ended', 'the Kallglot session has ended'));
			return;
		}
		if (result?.kind === 'waiting') {
			this.waitForLive(attempt, result.retryAfterMs);
			return;
		}
		const endpoint = result?.kind === 'live' ? result.endpoint : undefined;
		if (!endpoint || typeof endpoint.url !== 'string' || typeof endpoint.token !== 'string' || endpoint.token === '') {
			this.failAttempt(
				attempt,
				new StreamClientError('endpoint', 'resolveEndpoint returned no stream URL and token', { permanent: true }),
			);
			return;
		}
		this.rememberSecret(endpoint.token);
		let url: string;
		try {
			url = streamUrl(endpoint.url, endpoint.token);
		} catch {
			this.failAttempt(
				attempt,
				new StreamClientError('endpoint', this.redact(`the stream URL is not a valid URL: ${redactUrl(endpoint.url)}`), {
					permanent: true,
				}),
			);
			return;
		}
		this.openSocket(attempt, url);
	}

	private openSocket(attempt: Attempt, url: string): void {
		let socket: WebSocket;
		try {
			// maxPayload is only a memory-safety cap: frames above maxFrameBytes are skipped by us,
			// because ws closes the whole connection when maxPayload is exceeded.
			socket = openStreamSocket(url, this.hardMaxPayload, this.options.agentFor?.(url));
		} catch (error) {
			this.failAttempt(attempt, new StreamClientError('network', this.redact(`could not open the stream: ${describeError(error)}`)));
			return;
		}
		attempt.socket = socket;
		this.socket = socket;
		this.log('debug', `connecting to ${this.redact(redactUrl(url))} (attempt ${attempt.number})`);
		this.timers.set('connect', this.connectTimeoutMs, () =>
			this.failAttempt(
				attempt,
				new StreamClientError('timeout', `no stream handshake and session.ready within ${this.connectTimeoutMs} ms`),
			),
		);

		// Exactly one listener per event on this socket; retire() removes them all.
		socket.on('unexpected-response', (_request, response) =>
			this.guard(() => {
				response.resume();
				if (socket === this.socket) this.failAttempt(attempt, handshakeError(response.statusCode ?? 0));
			}),
		);
		socket.on('open', () => this.guard(() => this.onOpen(socket, attempt)));
		socket.on('message', (data, isBinary) => this.guard(() => this.onMessage(socket, attempt, data, isBinary)));
		socket.on('error', (error) => this.guard(() => this.onSocketError(socket, attempt, error)));
		socket.on('close', (code) => this.guard(() => this.onSocketClose(socket, attempt, code)));
	}

	private onOpen(socket: WebSocket, attempt: Attempt): void {
		if (socket !== this.socket || attempt.done) return;
		this.lastActivity = this.clock.now();
		// A ping right away: its pong is a first frame even if the server sends no session.ready.
		this.sendPing(socket);
	}

	/** The session is not live yet: ask again later. Not a failed attempt; no give-up while waiting. */
	private waitForLive(attempt: Attempt, retryAfterMs = 0): void {
		attempt.done = true;
		if (this.attempt === attempt) this.attempt = null;
		this.timers.clear('connect');
		this._state = 'waiting';
		const firstWait = this.poll.attempts === 0;
		const delay = Math.max(this.poll.next(), Number.isFinite(retryAfterMs) ? retryAfterMs : 0);
		this.log(firstWait ? 'info' : 'debug', `the session is not live yet; checking again in ${delay} ms`);
		// After start() resolved 'waiting', a failure is a reconnect failure (start has no retry).
		const handlers: Pick<Attempt, 'opened' | 'failed'> = attempt.waiting
			? { opened: () => this.log('info', 'connected: the session is live'), failed: (error) => this.reconnectFailed(error) }
			: { opened: attempt.opened, failed: attempt.failed };
		if (attempt.waiting) this.callback('start', () => attempt.waiting?.());
		this.timers.set('poll', delay, () => this.connect(attempt.number, handlers));
	}

	private succeedAttempt(attempt: Attempt): void {
		attempt.done = true;
		this.attempt = null;
		this.poll.reset();
		this.timers.clear('connect');
		this._state = 'open';
		this.lastActivity = this.clock.now();
		this.armPing();
		this.armWatchdog(2 * this.pingIntervalMs);
		attempt.opened();
	}

	/** session.ready on the current connection: once it has lasted stableAfterMs, it was a success. */
	private onReady(): void {
		if (this.timers.has('stable') || this.connectionStable) return;
		this.timers.set('stable', this.stableAfterMs, () => {
			this.connectionStable = true;
			if (this.backoff.attempts > 0) this.log('debug', `connection up for ${this.stableAfterMs} ms: attempt counter and backoff reset`);
			this.backoff.reset();
		});
	}

	private failAttempt(attempt: Attempt, error: StreamClientError): void {
		if (attempt.done) return;
		attempt.done = true;
		if (this.attempt === attempt) this.attempt = null;
		if (attempt.socket && attempt.socket === this.socket) this.detach(false);
		else this.timers.clear('connect');
		attempt.failed(error);
	}

	// -------------------------------------------------------------------------------------------
	// Socket events

	private onMessage(socket: WebSocket, attempt: Attempt, data: RawData, isBinary: boolean): void {
		if (socket !== this.socket || this.closed) return;
		this.lastActivity = this.clock.now();
		this.counters.framesReceived++;
		if (!attempt.done) {
			this.succeedAttempt(attempt);
			if (socket !== this.socket || this.closed) return;
		}

		const decoded = decodeMessage(data, isBinary, this.maxFrameBytes);
		if (!decoded.ok) {
			this.problem(decoded.problem, decoded.detail);
			return;
		}
		const event = decoded.event;
		if (event.type === 'session.ready') this.onReady();
		if (event.type === 'pong') return;
		if (event.type === 'unknown') this.countUnknown(event.wireType);
		const identity = eventIdentity(event);
		if (identity !== null && this.dedupe.checkAndRemember(identity)) {
			this.counters.duplicatesDropped++;
		} else {
			this.counters.eventsEmitted++;
			this.callback('onEvent', () => this.options.onEvent(event));
		}
		if (event.type === 'session.ended' && !this.closed) this.end(event.reason);
	}

	private countUnknown(wireType: string): void {
		this.counters.unknownEvents++;
		if (!this.loggedUnknownTypes.has(wireType) && this.loggedUnknownTypes.size < 50) {
			this.loggedUnknownTypes.add(wireType);
			this.log('debug', `unknown event type "${wireType.slice(0, 64)}" passed through`);
		}
	}

	private onSocketError(socket: WebSocket, attempt: Attempt, error: Error): void {
		if (socket !== this.socket) return;
		const message = this.redact(describeError(error));
		if ((error as { code?: unknown }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' && attempt.done) {
			// Above the hard maxPayload cap ws has already failed the connection (close 1009).
			this.problem('oversized', `frame exceeds the hard limit of ${this.hardMaxPayload} bytes; the connection was reset`);
			if (socket !== this.socket || this.closed) return;
		}
		if (!attempt.done) {
			this.failAttempt(attempt, new StreamClientError('network', `stream connection failed: ${message}`));
		} else {
			this.connectionLost(`socket error: ${message}`);
		}
	}

	private onSocketClose(socket: WebSocket, attempt: Attempt, code: number): void {
		if (socket !== this.socket) return;
		if (!attempt.done) {
			this.failAttempt(attempt, new StreamClientError('network', `stream closed during the handshake (code ${code})`));
		} else {
			this.connectionLost(`closed by the server (code ${code})`);
		}
	}

	// -------------------------------------------------------------------------------------------
	// Keepalive

	private armPing(): void {
		this.timers.set('ping', this.pingIntervalMs, () => {
			if (this.socket) this.sendPing(this.socket);
			this.armPing();
		});
	}

	private sendPing(socket: WebSocket): void {
		if (socket.readyState !== WebSocket.OPEN) return;
		try {
			socket.send(clientFrames.ping());
			this.counters.pingsSent++;
		} catch (error) {
			this.log('debug', `ping failed: ${describeError(error)}`);
		}
	}

	private armWatchdog(ms: number): void {
		this.timers.set('watchdog', Math.max(1, Math.ceil(ms)), () => {
			if (this._state !== 'open' || !this.socket) return;
			const limit = 2 * this.pingIntervalMs;
			const idle = this.clock.now() - this.lastActivity;
			if (idle < limit) {
				this.armWatchdog(limit - idle);
				return;
			}
			// Timers run before I/O in the event loop: after a stall (a busy n8n main process), frames
			// may be waiting in the socket. A timer armed now fires in the next loop iteration, after
			// its I/O phase: only then is the stream declared dead.
			this.timers.set('watchdog-recheck', 0, () => {
				if (this._state !== 'open' || !this.socket) return;
				const stillIdle = this.clock.now() - this.lastActivity;
				if (stillIdle >= limit) this.connectionLost(`no frame and no pong for ${Math.round(stillIdle)} ms (keepalive)`);
				else this.armWatchdog(limit - stillIdle);
			});
		});
	}

	// -------------------------------------------------------------------------------------------
	// Loss, reconnect, end, give-up

	private isStopped(): boolean {
		return this.closed || this._state === 'ended' || this._state === 'closed';
	}

	private connectionLost(reason: string): void {
		if (this.isStopped()) return;
		this.detach(false);
		this.log('warn', `connection lost: ${reason}; reconnecting`);
		this.lastFailure = new StreamClientError('network', `connection lost: ${reason}`);
		this.lostAt = this.clock.now();
		this.outageAttempts = 0;
		this.connectionStable = false;
		this.scheduleReconnect();
	}

	private scheduleReconnect(): void {
		if (this.isStopped()) return;
		if (this.backoff.attempts >= this.maxAttempts) {
			this.giveUp();
			return;
		}
		const delay = this.backoff.next();
		const number = this.backoff.attempts;
		this.outageAttempts++;
		this._state = 'backoff';
		this.log('debug', `reconnect attempt ${number} of ${this.maxAttempts} in ${delay} ms`);
		this.timers.set('backoff', delay, () =>
			this.connect(number, {
				opened: () => this.reconnected(),
				failed: (error) => this.reconnectFailed(error),
			}),
		);
	}

	private reconnected(): void {
		this.counters.reconnects++;
		const info = { attempts: this.outageAttempts, downtimeMs: Math.round(this.clock.now() - this.lostAt) };
		this.log('info', `reconnected after ${info.attempts} attempt(s), ${info.downtimeMs} ms without a stream`);
		this.callback('onReconnected', () => this.options.onReconnected?.(info));
	}

	private reconnectFailed(error: StreamClientError): void {
		if (this.isStopped()) return;
		this.lastFailure = error;
		if (error.kind === 'ended' || error.kind === 'not_found') {
			this.end(this.endedReason, error.message);
			return;
		}
		if (error.permanent) {
			this.giveUp(error);
			return;
		}
		this.log('warn', `reconnect attempt ${this.backoff.attempts} failed: ${error.message}`);
		this.scheduleReconnect();
	}

	/** The session ended: stop for good (no retry) and tell the owner once. */
	private end(reason: string | null, why?: string): void {
		if (this.isStopped()) return;
		this._state = 'ended';
		this.timers.clearAll();
		if (this.attempt) this.failAttempt(this.attempt, new StreamClientError('ended', 'the Kallglot session has ended'));
		this.detach(true);
		this.log('info', `session ended${reason ? ` (${reason})` : why ? `: ${why}` : ''}; the stream is closed`);
		this.callback('onEnded', () => this.options.onEnded?.(reason));
	}

	private giveUp(error?: StreamClientError): void {
		if (this.isStopped()) return;
		this._state = 'closed';
		this.detach(false);
		const last = error ?? this.lastFailure;
		const attempts = this.backoff.attempts;
		const failure = new StreamClientError(
			last?.kind ?? 'network',
			error?.permanent
				? `Kallglot stream stopped: ${error.message}`
				: `Kallglot stream lost: gave up after ${attempts} consecutive failed reconnect attempt(s)${last ? `; last error: ${last.message}` : ''}`,
			{ status: last?.status, permanent: last?.permanent, attempts },
		);
		this.log('error', failure.message);
		this.callback('onGiveUp', () => this.options.onGiveUp?.(failure));
	}

	// -------------------------------------------------------------------------------------------
	// Sockets, problems, callbacks, logging

	/**
	 * Takes the current socket out of service: stops every timer (they all belong to the current
	 * connection or the wait before the next), then retires the socket, gracefully (close 1000,
	 * terminated after `timeoutMs`) or at once.
	 */
	private detach(graceful: boolean, timeoutMs = 2000): void {
		this.timers.clearAll();
		const socket = this.socket;
		this.socket = null;
		if (socket) this.retiring.retire(socket, graceful, timeoutMs);
	}

	private problem(kind: StreamProblemKind, detail: string): void {
		const count = ++this.counters.problems[kind];
		if (!this.loggedProblems.has(kind)) {
			this.loggedProblems.add(kind);
			this.log('warn', `skipped a bad frame (${kind}): ${detail}; further ${kind} frames are only counted`);
		}
		this.callback('onProblem', () => this.options.onProblem?.({ kind, count, detail }));
	}

	/** Runs a user callback: nothing after close(), throws and rejected promises are logged, never propagated. */
	private callback(name: string, fn: () => unknown): void {
		if (this.closed) return;
		try {
			const result = fn();
			if (result && typeof (result as PromiseLike<unknown>).then === 'function') {
				(result as PromiseLike<unknown>).then(undefined, (error: unknown) =>
					this.log('error', `the ${name} callback failed: ${describeError(error)}`),
				);
			}
		} catch (error) {
			this.log('error', `the ${name} callback threw: ${describeError(error)}`);
		}
	}

	/** Wraps socket and timer callbacks: whatever happens inside, nothing is thrown to ws or the event loop. */
	private guard(fn: () => void): void {
		try {
			fn();
		} catch (error) {
			this.log('error', `internal error: ${describeError(error)}`);
		}
	}

	private rememberSecret(token: string): void {
		if (!this.secrets.includes(token)) {
			this.secrets.push(token);
			if (this.secrets.length > 8) this.secrets.shift();
		}
	}

	private redact(text: string): string {
		return redactLiterals(redactSecrets(text), this.secrets);
	}

	private log(level: keyof StreamLogger, message: string): void {
		if (this.closed) return;
		const logger = this.options.log;
		if (!logger) return;
		try {
			logger[level](this.redact(LOG_PREFIX + message));
		} catch {
			// a logger that throws must not break the stream
		}
	}
}
