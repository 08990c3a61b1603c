/**
 * Listens to Kallglot sessions for the trigger: which session, when to move to the next one,
 * which events become items, and a clean stop. No n8n imports: the node passes in the API calls
 * and the emit functions, so the lifecycle can be read (and reasoned about) on its own.
 */
import {
	KallglotStreamClient,
	StreamClientError,
	type EndpointResult,
	type StreamClientOptions,
	type StreamLogger,
} from '../shared/stream';
import type { EmittedFinals, FinalRef } from '../shared/stream/emitted';
import { explainNetworkFailure } from '../shared/networkFailure';
import { describeProxy } from '../shared/proxy';
import { batchItem, ExecutionQueue, type BatchReason } from './flow';
import { sessionEndReason, type SessionResponse, type StreamEvent } from '../shared/wire';
import {
	endedItem,
	eventItem,
	isSelected,
	isTurn,
	summaryItem,
	toTurn,
	type EventItem,
	type EventSelection,
	type SessionContext,
	type Turn,
} from './items';

/** A failed Kallglot call, reduced to what the listener needs to decide. */
export class SessionApiError extends Error {
	constructor(
		message: string,
		readonly status: number | null,
		readonly description?: string,
		/** A 429's Retry-After (ms), when Kallglot sent one. */
		readonly retryAfterMs?: number,
	) {
		super(message);
	}
}

/**
 * Nothing was sent: what Kallglot said about the rate limit (X-RateLimit-Remaining 0 until
 * X-RateLimit-Reset, contract §4) asks to wait `retryAfterMs` before the next request.
 */
export class RateLimitWait extends SessionApiError {
	constructor(message: string, retryAfterMs: number) {
		super(message, null, undefined, retryAfterMs);
	}
}

export interface SessionApi {
	/** `signal` aborts the call (and its retries) when the listener closes. */
	create(signal?: AbortSignal): Promise<SessionResponse>;
	/**
	 * `poll`: a fetch of a stream token, whose long waits belong to the caller: a 429's Retry-After
	 * (a SessionApiError with status 429), or a rate-limit wait before sending (a RateLimitWait).
	 */
	get(sessionId: string, signal?: AbortSignal, poll?: boolean): Promise<SessionResponse>;
	end(sessionId: string): Promise<void>;
}

export type SessionSource =
	| { kind: 'create'; afterEnd: 'stop' | 'createNext' }
	| { kind: 'existing'; sessionId: string };

export interface ListenerOptions {
	source: SessionSource;
	selection: EventSelection;
	emitAs: 'event' | 'session' | 'batch';
	/** Emit As batch: one execution per this many events or this long after a batch's first event. */
	batch: { maxEvents: number; maxWaitMs: number };
	/** Executions at once (1 = in order, one at a time) and items waiting before they are coalesced. */
	flow: { concurrency: number; maxQueued: number; waitCapMs?: number };
	/** What earlier instances emitted (n8n's workflow static data); finals in it are dropped. */
	emitted: EmittedFinals;
	emitReconnects: boolean;
	endCreatedSessionOnClose: boolean;
	/** Manual test: emit the first matching item, then stop listening. */
	manual: boolean;
	stream: Pick<StreamClientOptions, 'pingIntervalMs' | 'maxFrameBytes' | 'reconnect' | 'connectTimeoutMs' | 'waitPoll' | 'agentFor'>;
	api: SessionApi;
	/** Starts one execution; the promise (when given) settles when that execution finished. */
	emit(item: EventItem): Promise<unknown> | void;
	/** The trigger cannot go on: n8n deactivates, runs the error workflow, and re-activates later. */
	emitError(error: Error): void;
	log: StreamLogger;
}

/** Why activation failed, with what to fix. */
export class ListenerStartError extends Error {
	constructor(
		message: string,
		readonly description: string,
	) {
		super(message);
	}
}

const PERMANENT_STATUSES = new Set([401, 403, 404]);
/** Kallglot asks clients to cache GET /v1/sessions/{id} per id for a short time (§4). */
export const SESSION_CACHE_MS = 1000;
/** A kept stream token is reused only while it has at least this long left. */
const TOKEN_MARGIN_MS = 15_000;
/** The ended item's reason when the stream closed without session.ended and Kallglot reports none. */
export const STREAM_CLOSED_REASON = 'stream_closed';
const CREATE_NEXT_ATTEMPTS = 3;
const END_TIMEOUT_MS = 5000;

interface ActiveSession {
	context: SessionContext;
	created: boolean;
	ended: boolean;
	startedAt: Date;
	turns: Turn[];
	client: KallglotStreamClient;
	/** Emit As batch: the open batch and its timer. */
	batch: EventItem[];
	batchTimer: NodeJS.Timeout | null;
	/** Finals dropped because an earlier instance had emitted them. */
	persistedDuplicates: number;
}

const sessionEndedError = (sessionId: string) =>
	new ListenerStartError(
		`Session ${sessionId} has already ended`,
		'An ended session streams nothing. Use a live session, or let the trigger create a new session.',
	);

function describeStartFailure(error: StreamClientError, sessionId: string, streamUrl?: string): ListenerStartError {
	switch (error.kind) {
		case 'unauthorized':
			return new ListenerStartError(
				`Kallglot refused the stream token of session ${sessionId}`,
				'The token may have expired between fetching it and connecting. Activate again; if it persists, check that the credential belongs to the organization that owns the session.',
			);
		case 'not_found':
			return new ListenerStartError(`Kallglot does not know session ${sessionId}`, 'Check the Session ID (it starts with sess_).');
		case 'ended':
			return sessionEndedError(sessionId);
		case 'timeout':
			return new ListenerStartError(
				`The stream of session ${sessionId} did not become ready in time`,
				'Check that n8n can reach the stream URL (WebSocket, port 443), then activate again.',
			);
		default: {
			// A failed connection (certificate, name, proxy, refusal) says which and what fixes it.
			const failure =
				error.kind === 'network' && streamUrl ? explainNetworkFailure(error, { url: streamUrl, proxy: describeProxy(streamUrl) }) : null;
			return new ListenerStartError(
				`Could not open the stream of session ${sessionId}: ${failure?.problem ?? error.message}`,
				failure?.fix ?? 'Check the network between n8n and Kallglot and the credential’s Base URL, then activate again.',
			);
		}
	}
}

export class SessionListener {
	private active: ActiveSession | null = null;
	private closed = false;
	private closing: Promise<void> | null = null;
	private manualDone = false;
	private readonly sessionsToEnd = new Set<string>();
	/** Pending wait between attempts to create the next session; cleared on close. */
	private retryWait: { timer: NodeJS.Timeout; resolve: () => void } | null = null;
	/** Aborts Kallglot calls still in flight (token fetches, next-session creation) on close. */
	private readonly aborter = new AbortController();
	private readonly queue: ExecutionQueue;

	constructor(private readonly options: ListenerOptions) {
		this.queue = new ExecutionQueue({
			...options.flow,
			start: (entry) => {
				// The end starts after every item before it: only now are its backlog counts complete
				// (a backlog that is catching up is coalesced as its executions start).
				const stream = entry.item.stream as Record<string, number> | undefined;
				if (entry.final && stream) Object.assign(stream, this.queue.stats(entry.sessionId));
				// Recorded before the hand-off: n8n saves static data when an execution is emitted.
				this.options.emitted.record(entry.sessionId, finalsOf(entry.item));
				return this.options.emit(entry.item);
			},
			log: (message) => this.options.log.warn(`Kallglot Trigger: ${message}`),
		});
	}

	/** Opens the first stream. Throws ListenerStartError, so a bad setting fails activation. */
	async start(): Promise<void> {
		const { source, api } = this.options;
		let session: SessionResponse;
		try {
			session = source.kind === 'create' ? await api.create() : await api.get(source.sessionId);
		} catch (error) {
			throw this.apiStartError(error, source.kind === 'existing' ? source.sessionId : null);
		}
		if (source.kind === 'existing' && session.status === 'ended') throw sessionEndedError(session.id);
		if (!session.stream) {
			// Not live yet (`stream` comes only with an active session): wait for the call to start.
			this.options.log.info(
				`Kallglot session ${session.id} is not live yet (status ${session.status}): the trigger waits for the call to start`,
			);
		}
		await this.listenTo(session, source.kind === 'create');
	}

	/** Idempotent; never throws for the stream. Rejects only when ending a created session failed. */
	close(): Promise<void> {
		this.closing ??= this.shutDown();
		return this.closing;
	}

	private async shutDown(): Promise<void> {
		this.closed = true;
		this.queue.close();
		this.aborter.abort();
		if (this.retryWait) {
			clearTimeout(this.retryWait.timer);
			this.retryWait.resolve();
			this.retryWait = null;
		}
		const active = this.active;
		this.active = null;
		if (active?.batchTimer) clearTimeout(active.batchTimer);
		await active?.client.close();
		const endNow = this.options.manual || this.options.endCreatedSessionOnClose;
		if (active && active.created && !active.ended && endNow) this.sessionsToEnd.add(active.context.sessionId);
		const failures: string[] = [];
		for (const id of this.sessionsToEnd) {
			try {
				await withTimeout(this.options.api.end(id), END_TIMEOUT_MS, `ending session ${id} took longer than ${END_TIMEOUT_MS} ms`);
			} catch (error) {
				failures.push(`${id}: ${(error as Error).message}`);
			}
		}
		this.sessionsToEnd.clear();
		if (failures.length) throw new Error(`Could not end the session the trigger created (${failures.join('; ')}); end it in Kallglot to stop billing.`);
	}

	private apiStartError(error: unknown, sessionId: string | null): ListenerStartError {
		if (error instanceof SessionApiError) {
			const what = sessionId ? `Could not fetch session ${sessionId}` : 'Could not create the session';
			return new ListenerStartError(`${what}: ${error.message}`, error.description ?? 'Check the credential and the parameters.');
		}
		return new ListenerStartError(String((error as Error)?.message ?? error), 'Check the credential and the parameters.');
	}

	private async listenTo(session: SessionResponse, created: boolean): Promise<void> {
		const context: SessionContext = {
			sessionId: session.id,
			sourceLanguage: session.source_language ?? null,
			targetLanguage: session.target_language ?? null,
		};
		let firstEndpoint = session.stream ?? null;
		/** The last token used, reused while GET shows no stream (not live right now) and it is unexpired. */
		let lastStream: SessionResponse['stream'] = null;
		// The response we have serves the first poll of a session that is not live; its token is firstEndpoint's.
		let cached: { at: number; session: SessionResponse } = { at: session.stream ? 0 : Date.now(), session };
		const client = new KallglotStreamClient({
			...this.options.stream,
			log: this.options.log,
			resolveEndpoint: async (): Promise<EndpointResult> => {
				if (firstEndpoint) {
					const endpoint = firstEndpoint;
					firstEndpoint = null; // used once: later attempts need a fresh token
					lastStream = endpoint;
					return { kind: 'live', endpoint };
				}
				let fresh: SessionResponse;
				if (Date.now() - cached.at < SESSION_CACHE_MS) {
					fresh = cached.session;
				} else {
					try {
						fresh = await this.options.api.get(session.id, this.aborter.signal, true);
					} catch (error) {
						if (error instanceof SessionApiError && error.status === 404) return { kind: 'ended', reason: null };
						// Waited out between polls, not within the attempt (its timeout would count a failure).
						if (error instanceof RateLimitWait || (error instanceof SessionApiError && error.status === 429)) {
							return { kind: 'waiting', retryAfterMs: error.retryAfterMs };
						}
						const permanent = error instanceof SessionApiError && error.status !== null && PERMANENT_STATUSES.has(error.status);
						throw Object.assign(new Error((error as Error).message), { permanent });
					}
					cached = { at: Date.now(), session: fresh };
				}
				// Only `ended` is final; any other status without `stream` means "not live right now".
				if (fresh.status === 'ended') return { kind: 'ended', reason: sessionEndReason(fresh) };
				if (fresh.stream) {
					// A token is used once per GET: the next attempt asks again.
					cached = { at: 0, session: fresh };
					lastStream = fresh.stream;
					return { kind: 'live', endpoint: fresh.stream };
				}
				if (lastStream && tokenValidFor(lastStream) > TOKEN_MARGIN_MS) {
					const endpoint = lastStream;
					lastStream = null; // once: if it fails, wait for a fresh one
					return { kind: 'live', endpoint };
				}
				return { kind: 'waiting' };
			},
			onEvent: (event) => this.onEvent(active, event),
			onReconnected: (info) => {
				if (this.options.emitReconnects && this.options.emitAs === 'event') {
					this.emit(context.sessionId, {
						event: 'stream.reconnected',
						sessionId: context.sessionId,
						attempts: info.attempts,
						downtimeMs: Math.round(info.downtimeMs),
						receivedAt: new Date().toISOString(),
						note: 'The stream was interrupted; events spoken during the gap may be missing.',
					});
				}
			},
			onEnded: (reason) => void this.onEnded(active, reason),
			onGiveUp: (error) => this.giveUp(active, error),
		});
		const active: ActiveSession = {
			context,
			created,
			ended: false,
			startedAt: new Date(),
			turns: [],
			client,
			batch: [],
			batchTimer: null,
			persistedDuplicates: 0,
		};
		this.active = active;
		try {
			await client.start();
		} catch (error) {
			this.active = null;
			await client.close();
			if (created) await this.options.api.end(session.id).catch(() => undefined);
			throw error instanceof StreamClientError ? describeStartFailure(error, session.id, session.stream?.url) : error;
		}
	}

	/** Hands an item to the execution queue (a manual test: emits the first one, once). */
	private emit(sessionId: string, item: EventItem, final = false): void {
		if (this.closed || this.manualDone) return;
		if (this.options.manual) {
			this.manualDone = true;
			void this.options.emit(item);
			return;
		}
		this.queue.push({ sessionId, item, final });
	}

	/** Emit As batch: the open batch becomes one execution. */
	private flushBatch(active: ActiveSession, reason: BatchReason): void {
		if (active.batchTimer) clearTimeout(active.batchTimer);
		active.batchTimer = null;
		if (active.batch.length === 0) return;
		const items = active.batch;
		active.batch = [];
		this.emit(active.context.sessionId, batchItem(active.context.sessionId, items, reason));
	}

	private streamStats(active: ActiveSession): Record<string, number> {
		const s = active.client.stats;
		const malformed = Object.values(s.problems).reduce((a, b) => a + b, 0);
		const flow = this.queue.stats(active.context.sessionId);
		return {
			malformedFrames: malformed,
			unknownEvents: s.unknownEvents,
			duplicatesDropped: s.duplicatesDropped + active.persistedDuplicates,
			reconnects: s.reconnects,
			coalesced: flow.coalesced,
			backlogBatches: flow.backlogBatches,
		};
	}

	private onEvent(active: ActiveSession, event: StreamEvent): void {
		if (this.closed || active !== this.active) return;
		const { selection, emitAs } = this.options;
		if (event.type === 'transcript.final' && this.options.emitted.has(active.context.sessionId, event)) {
			active.persistedDuplicates++;
			return;
		}
		if (emitAs === 'session') {
			if (isTurn(event, selection)) active.turns.push(toTurn(event, active.context));
			return;
		}
		// The end is reported once, by onEnded, whichever way the session ended.
		if (event.type === 'session.ended') return;
		if (!isSelected(event, selection)) return;
		const item = eventItem(event, active.context, new Date(), selection.includeRaw);
		if (emitAs === 'batch') {
			active.batch.push(item);
			if (active.batch.length >= this.options.batch.maxEvents) this.flushBatch(active, 'size');
			else active.batchTimer ??= setTimeout(() => this.flushBatch(active, 'interval'), this.options.batch.maxWaitMs);
			return;
		}
		this.emit(active.context.sessionId, item);
	}

	private async onEnded(active: ActiveSession, endReason: string | null): Promise<void> {
		if (this.closed || active !== this.active || active.ended) return;
		active.ended = true;
		const reason = endReason ?? STREAM_CLOSED_REASON;
		const now = new Date();
		if (this.options.emitAs === 'batch') this.flushBatch(active, 'end');
		const stats = this.streamStats(active);
		const sessionId = active.context.sessionId;
		if (this.options.emitAs === 'session') {
			this.emit(sessionId, summaryItem(active.context, active.turns, reason, active.startedAt, now, stats), true);
		} else if (this.options.selection.events.has('ended')) {
			this.emit(sessionId, endedItem(active.context, reason, now, stats), true);
		}
		const { source } = this.options;
		if (source.kind !== 'create' || source.afterEnd !== 'createNext' || this.options.manual) return;
		await this.createNext();
	}

	/** For a managed number that takes call after call: a new session once the last one ended. */
	private async createNext(): Promise<void> {
		let lastError: unknown;
		for (let attempt = 0; attempt < CREATE_NEXT_ATTEMPTS && !this.closed; attempt++) {
			try {
				const session = await this.options.api.create(this.aborter.signal);
				if (this.closed) {
					this.sessionsToEnd.add(session.id);
					return;
				}
				await this.listenTo(session, true);
				return;
			} catch (error) {
				lastError = error;
				await new Promise<void>((resolve) => {
					this.retryWait = { timer: setTimeout(resolve, 1000 * 2 ** attempt), resolve };
				});
				this.retryWait = null;
			}
		}
		if (!this.closed) {
			this.options.emitError(new Error(`Could not start the next Kallglot session: ${(lastError as Error)?.message ?? lastError}`));
		}
	}

	private giveUp(active: ActiveSession, error: StreamClientError): void {
		if (this.closed || active !== this.active) return;
		this.options.emitError(
			new Error(
				`Lost the stream of session ${active.context.sessionId} and could not reconnect (${error.message}). n8n will re-activate the workflow.`,
			),
		);
	}
}

/** The finals an item carries: itself, a batch's, or a session summary's turns. */
function finalsOf(item: EventItem): FinalRef[] {
	if (item.event === 'transcript.final') return [item as unknown as FinalRef];
	if (item.event === 'session.batch' && Array.isArray(item.items)) return (item.items as EventItem[]).flatMap(finalsOf);
	if (item.event === 'session.transcript' && Array.isArray(item.turns)) return item.turns as FinalRef[];
	return [];
}

/** Milliseconds the stream token has left; 0 when its expiry is unknown. */
function tokenValidFor(stream: NonNullable<SessionResponse['stream']>): number {
	const expires = stream.expires_at ? Date.parse(stream.expires_at) : NaN;
	return Number.isFinite(expires) ? expires - Date.now() : 0;
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new Error(message)), ms);
	});
	return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
