/**
 * Execution flow control: items start executions in the order they arrived, at most
 * `concurrency` at a time (the next one starts when an earlier execution finished: n8n's deferred
 * donePromise). Items waiting meanwhile are queued; when more than `maxQueued` are waiting, the
 * backlog is coalesced into `session.batch` items (in order, at most BATCH_MAX_ITEMS each) instead
 * of growing into thousands of executions, and the queue stays in catch-up until an execution
 * finishes with nothing waiting: whatever waits when the next execution starts is coalesced too.
 * Without that, a flush runs as dozens of single-item executions between the batches, and each
 * execution, not the items, is what costs n8n memory.
 * Nothing is dropped, except what is still waiting at close().
 * No n8n imports; time comes from the injected clock.
 */
import { type Clock, TIMED_OUT, withTimeout } from '../shared/clock';
import type { EventItem } from './items';

/** The most items one coalesced batch holds. */
export const BATCH_MAX_ITEMS = 500;
/**
 * An execution that has not reported its end after this long no longer holds the queue (README:
 * 10 minutes): a donePromise that never settles must not stall the session's items forever.
 */
export const EXECUTION_WAIT_CAP_MS = 10 * 60 * 1000;

export type BatchReason = 'size' | 'interval' | 'end' | 'backlog';

export interface Entry {
	sessionId: string;
	item: EventItem;
	/** The session's end: never merged into a batch. */
	final?: boolean;
}

export interface FlowStats {
	/** Items that went into backlog batches. */
	coalesced: number;
	backlogBatches: number;
}

/** `session.batch`: items of one session, in order. */
export function batchItem(sessionId: string, items: EventItem[], reason: BatchReason): EventItem {
	return {
		event: 'session.batch',
		sessionId,
		reason,
		itemCount: items.length,
		turnCount: items.filter((i) => i.event === 'transcript.final').length,
		firstReceivedAt: items[0]?.receivedAt ?? null,
		lastReceivedAt: items.at(-1)?.receivedAt ?? null,
		items,
	};
}

const isBatch = (item: EventItem) => item.event === 'session.batch' && Array.isArray(item.items);
/** The items one queue entry stands for: a batch's items, or the item itself. */
const itemsOf = (item: EventItem): EventItem[] => (isBatch(item) ? (item.items as EventItem[]) : [item]);

export class ExecutionQueue {
	private readonly pending: Entry[] = [];
	private inFlight = 0;
	private closed = false;
	/** Set when the bound was passed; cleared when an execution finished and nothing was waiting. */
	private catchingUp = false;
	/** Items that waited in the current catch-up (for its log line). */
	private caughtUpItems = 0;
	private readonly counters = new Map<string, FlowStats>();
	/** Ends the cap waits of the executions in flight at close (a stuck one must not outlive the trigger). */
	private readonly closing = new AbortController();
	readonly waitCapMs: number;

	constructor(
		private readonly options: {
			concurrency: number;
			maxQueued: number;
			/** Starts one execution; resolves when it finished (or undefined: nothing to wait for). */
			start(entry: Entry): Promise<unknown> | void;
			log(message: string): void;
			/** The cap waits on it. */
			clock: Clock;
			/** Default EXECUTION_WAIT_CAP_MS. */
			waitCapMs?: number;
		},
	) {
		this.waitCapMs = options.waitCapMs ?? EXECUTION_WAIT_CAP_MS;
	}

	/** Counters of one session (for its ended item). */
	stats(sessionId: string): FlowStats {
		return { ...(this.counters.get(sessionId) ?? { coalesced: 0, backlogBatches: 0 }) };
	}

	get waiting(): number {
		return this.pending.length;
	}

	push(entry: Entry): void {
		if (this.closed) return;
		this.pending.push(entry);
		if (this.pending.length > this.options.maxQueued) {
			if (!this.catchingUp) {
				this.catchingUp = true;
				this.caughtUpItems = 0;
				this.options.log(`more than ${this.options.maxQueued} items are waiting for their executions: the backlog goes out as batch items until it has drained`);
			}
			this.coalesce();
		}
		this.pump();
	}

	/** Nothing starts after close; what is still waiting is dropped (n8n is deactivating). */
	close(): void {
		this.closed = true;
		this.pending.length = 0;
		this.closing.abort();
	}

	/** Folds the waiting items of each session (in order, up to the session's end) into batches. */
	private coalesce(): void {
		const merged: Entry[] = [];
		let run: Entry[] = [];
		const flush = () => {
			if (run.length === 0) return;
			const sessionId = run[0].sessionId;
			const counter = this.counters.get(sessionId) ?? { coalesced: 0, backlogBatches: 0 };
			const items: EventItem[] = [];
			for (const { item } of run) {
				const inner = itemsOf(item);
				items.push(...inner);
				// Items already in a backlog batch were counted when it was made.
				if (isBatch(item) && item.reason === 'backlog') counter.backlogBatches--;
				else counter.coalesced += inner.length;
			}
			for (let from = 0; from < items.length; from += BATCH_MAX_ITEMS) {
				merged.push({ sessionId, item: batchItem(sessionId, items.slice(from, from + BATCH_MAX_ITEMS), 'backlog') });
				counter.backlogBatches++;
			}
			this.counters.set(sessionId, counter);
			run = [];
		};
		for (const entry of this.pending) {
			if (entry.final || (run.length > 0 && run[0].sessionId !== entry.sessionId)) {
				flush();
				if (entry.final) {
					merged.push(entry);
					continue;
				}
			}
			run.push(entry);
		}
		flush();
		this.pending.splice(0, this.pending.length, ...merged);
	}

	private pump(): void {
		while (!this.closed && this.inFlight < this.options.concurrency && this.pending.length > 0) {
			// Catching up: what waits now starts as few executions as it can.
			if (this.catchingUp && this.pending.length > 1) this.coalesce();
			const entry = this.pending.shift() as Entry;
			if (this.catchingUp) this.caughtUpItems += itemsOf(entry.item).length;
			this.inFlight++;
			let done: Promise<unknown> | void;
			try {
				done = this.options.start(entry);
			} catch (error) {
				this.options.log(`could not start an execution: ${(error as Error).message}`);
				done = undefined;
			}
			void this.settle(done).then(() => {
				this.inFlight--;
				this.pump();
			});
		}
		if (this.catchingUp && !this.closed && this.pending.length === 0 && this.inFlight < this.options.concurrency) {
			this.catchingUp = false;
			this.options.log(`the backlog has drained (${this.caughtUpItems} items): one item per execution again`);
		}
	}

	private async settle(done: Promise<unknown> | void): Promise<void> {
		if (!done || this.closed) return;
		const ended = done.then(
			() => undefined,
			() => undefined,
		);
		const outcome = await withTimeout(this.options.clock, ended, this.waitCapMs, this.closing.signal);
		if (outcome === TIMED_OUT && !this.closed) {
			this.options.log(`an execution has not finished after ${describeMs(this.waitCapMs)}: starting the next one`);
		}
	}
}

const describeMs = (ms: number) => (ms % 60_000 === 0 ? `${ms / 60_000} minutes` : `${ms} ms`);
