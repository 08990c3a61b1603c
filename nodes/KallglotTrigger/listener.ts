/**
 * Listens to Kallglot sessions for the trigger: which session, when to move to the next one,
 * which events become items, and a clean stop. No n8n imports: the node passes in the API calls,
 * the emit functions and the clock, so the lifecycle can be read (and tested) on its own.
 */
import { type Clock, TIMED_OUT, isoTimes, sleep, withTimeout, type TimerHandle } from '../shared/clock';
import {
	Backoff,
	KallglotStreamClient,
	StreamClientError,
	type StreamClientOptions,
	type StreamLogger,
} from '../shared/stream';
import type { EmittedFinals, FinalRef } from '../shared/stream/emitted';
import { explainNetworkFailure } from '../shared/networkFailure';
import { describeProxy } from '../shared/proxy';
import { batchItem, ExecutionQueue, type BatchReason } from './flow';
import type { SessionResponse, StreamEvent } from '../shared/wire';
import { SessionEndpoints } from './endpoints';
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
import { SessionApiError, type SessionApi } from './sessionErrors';

export { SessionApiError, type SessionApi } from './sessionErrors';
export { SESSION_CACHE_MS } from './endpoints';

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
	/** Time and timers of the listener, its queue and its stream clients. */
	clock: Clock;
	/** The jitter of the stream's backoffs and polls; default Math.random. */
	random?: () => number;
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

/** The ended item's reason when the stream closed without session.ended and Kallglot reports none. */
export const STREAM_CLOSED_REASON = 'stream_closed';
/** Attempts to create the next session; after a failed one the listener waits 1 s, 2 s, then 4 s before it reports. */
const CREATE_NEXT_ATTEMPTS = 3;
const CREATE_NEXT_BACKOFF = { initialDelayMs: 1000, maxDelayMs: 4000, multiplier: 2, jitter: 0 };
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
	batchTimer: TimerHandle | null;
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
	/** Aborts Kallglot calls still in flight (token fetches, next-session creation) and waits on close. */
	private readonly aborter = new AbortController();
	private readonly queue: ExecutionQueue;
	private readonly clock: Clock;
	/** When an event was received, as items carry it. */
	private readonly receivedAt: () => string;

	constructor(private readonly options: ListenerOptions) {
		this.clock = options.clock;
		this.receivedAt = isoTimes(options.clock);
		this.queue = new ExecutionQueue({
			...options.flow,
			clock: options.clock,
			start: (entry) => {
				// The end starts after every item before it: only now are its backlog counts complete
				// (a backlog that is catching up is coalesced as its executions start).
				const stream = entry.item.stream as Record<string, number> | undefined;
				if (entry.final && stream) Object.assign(stream, this.queue.stats(entry.sessionId));
				// Recorded before the hand-off: n8n saves static data when an execution is emitted.
				this.options.emitted.record(entry.sessionId, finalsOf(entry.item), this.clock.now());
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
		const active = this.active;
		this.active = null;
		if (active?.batchTimer) this.clock.clearTimeout(active.batchTimer);
		await active?.client.close();
		const endNow = this.options.manual || this.options.endCreatedSessionOnClose;
		if (active && active.created && !active.ended && endNow) this.sessionsToEnd.add(active.context.sessionId);
		const failures: string[] = [];
		for (const id of this.sessionsToEnd) {
			try {
				const outcome = await withTimeout(this.clock, this.options.api.end(id), END_TIMEOUT_MS);
				if (outcome === TIMED_OUT) throw new Error(`ending session ${id} took longer than ${END_TIMEOUT_MS} ms`);
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
		const endpoints = new SessionEndpoints(session, this.options.api, this.clock, this.aborter.signal);
		const client = new KallglotStreamClient({
			...this.options.stream,
			clock: this.clock,
			random: this.options.random,
			log: this.options.log,
			resolveEndpoint: () => endpoints.resolve(),
			onEvent: (event) => this.onEvent(active, event),
			onReconnected: (info) => {
				if (this.options.emitReconnects && this.options.emitAs === 'event') {
					this.emit(context.sessionId, {
						event: 'stream.reconnected',
						sessionId: context.sessionId,
						attempts: info.attempts,
						downtimeMs: Math.round(info.downtimeMs),
						receivedAt: this.receivedAt(),
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
			startedAt: new Date(this.clock.now()),
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
		if (active.batchTimer) this.clock.clearTimeout(active.batchTimer);
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
		const item = eventItem(event, active.context, this.receivedAt(), selection.includeRaw);
		if (emitAs === 'batch') {
			active.batch.push(item);
			if (active.batch.length >= this.options.batch.maxEvents) this.flushBatch(active, 'size');
			else active.batchTimer ??= this.clock.setTimeout(() => this.flushBatch(active, 'interval'), this.options.batch.maxWaitMs);
			return;
		}
		this.emit(active.context.sessionId, item);
	}

	private async onEnded(active: ActiveSession, endReason: string | null): Promise<void> {
		if (this.closed || active !== this.active || active.ended) return;
		active.ended = true;
		const reason = endReason ?? STREAM_CLOSED_REASON;
		const now = new Date(this.clock.now());
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
		const backoff = new Backoff(CREATE_NEXT_BACKOFF);
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
				await sleep(this.clock, backoff.next(), this.aborter.signal);
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
