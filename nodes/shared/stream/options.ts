/** What the stream client is given and what it reports: its options, callbacks, states and counters. */
import type { Clock } from '../clock';
import type { StreamEvent } from '../wire';
import type { BackoffPolicy } from './backoff';
import type { StreamClientError } from './errors';
import type { StreamProblem, StreamProblemKind } from './problems';
import type { WebSocket } from './socket';

export interface StreamEndpoint {
	/** session.stream.url */
	url: string;
	/** session.stream.token */
	token: string;
}

/**
 * What resolveEndpoint found: a stream to connect to; the session has ended (with the reason
 * Kallglot reports, when it reports one); or the session is not live yet (no `stream` while it is
 * active: Kallglot's session object carries it only while the call is live): the client asks again later, and that wait is no failed attempt.
 */
export type EndpointResult =
	| { kind: 'live'; endpoint: StreamEndpoint }
	| { kind: 'ended'; reason?: string | null }
	/** `retryAfterMs`: ask again no sooner than this (a 429's Retry-After). */
	| { kind: 'waiting'; retryAfterMs?: number };

/** While the session is not live, resolveEndpoint is asked again after 1 s, doubling to 15 s. */
export const WAIT_POLL: Readonly<BackoffPolicy> = Object.freeze({ initialDelayMs: 1000, maxDelayMs: 15000, multiplier: 2, jitter: 0.2 });

/** A connection that got session.ready and stayed up this long was a success. */
export const STABLE_AFTER_MS = 5000;
/** The first retry after a successful connection waits at most this long (uniform from 0). */
export const FIRST_RETRY_MAX_MS = 250;

export interface StreamLogger {
	debug(msg: string): void;
	info(msg: string): void;
	warn(msg: string): void;
	error(msg: string): void;
}

export interface ReconnectOptions extends Partial<BackoffPolicy> {
	/** Consecutive failed attempts before giving up; default 10. */
	maxAttempts?: number;
	/** A connection up this long after session.ready resets the attempt counter; default STABLE_AFTER_MS. */
	stableAfterMs?: number;
}

export interface StreamClientOptions {
	/**
	 * Called before EVERY connection attempt, so each attempt gets a fresh token. `attempt` is 0
	 * for the first connection (start) and 1, 2, … for the consecutive reconnect attempts. An
	 * error whose `permanent === true` stops reconnecting (onGiveUp).
	 */
	resolveEndpoint(attempt: number): Promise<EndpointResult>;
	/** Every parsed, de-duplicated event except pong. */
	onEvent(event: StreamEvent): void;
	/** Each bad frame; never carries frame content. */
	onProblem?(p: StreamProblem): void;
	onReconnected?(info: { attempts: number; downtimeMs: number }): void;
	/** The session ended (session.ended frame, resolveEndpoint → ended, or handshake 404/410 while reconnecting). The client stops. */
	onEnded?(reason: string | null): void;
	/** Retry budget spent, or a permanent failure, after the first connection was made. The client stops. */
	onGiveUp?(error: StreamClientError): void;
	/** Every message passes through redactSecrets. */
	log?: StreamLogger;
	/** Time and timers: keepalive, watchdog, backoff, polls, connect and close timeouts. */
	clock: Clock;
	/** The jitter of backoffs and polls: a number in [0, 1); default Math.random. */
	random?: () => number;
	/** Default 15000; a stream silent (no pong, no frame) for 2 intervals is dead. */
	pingIntervalMs?: number;
	/** Default 256 KiB; bigger frames are skipped and counted. */
	maxFrameBytes?: number;
	/** Default 10000: limit for resolveEndpoint, then again for handshake + session.ready. */
	connectTimeoutMs?: number;
	reconnect?: ReconnectOptions;
	/** Default 10000 identities remembered. */
	dedupeWindow?: number;
	/** How often to ask again while the session is not live; default WAIT_POLL. */
	waitPoll?: Partial<BackoffPolicy>;
	/** The agent to open `url` with (a proxy tunnel, see shared/proxy.ts); undefined: direct. */
	agentFor?(url: string): WebSocket.ClientOptions['agent'];
}

export type StreamClientState = 'idle' | 'connecting' | 'waiting' | 'open' | 'backoff' | 'ended' | 'closed';

export interface StreamClientStats {
	framesReceived: number;
	eventsEmitted: number;
	duplicatesDropped: number;
	problems: Record<StreamProblemKind, number>;
	unknownEvents: number;
	reconnects: number;
	pingsSent: number;
}
