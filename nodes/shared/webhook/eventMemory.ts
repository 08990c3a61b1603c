/**
 * One execution per webhook event, and no acknowledged event lost. A delivery claims its event id
 * before doing any work; the claim counts as "handed over" (remembered for the memory's age) only
 * once n8n has taken the execution. A claim that never got that far is released, or expires after
 * `pendingMs` when its process died, so Kallglot's redelivery runs. A copy arriving while a claim
 * is held is told to come back later (it cannot know yet whether the first copy will get through).
 *
 * Two memories implement it: `ProcessEventMemory` (this process, persisted in the workflow's
 * static data) and `RedisEventMemory` (redisEventMemory.ts: every process sharing one Redis).
 * Plain TypeScript, no n8n.
 */
import { DEFAULT_SEEN_LIMITS, SeenEvents, type SeenEventsLimits, type SeenEventsState } from './seenEvents';

export interface HeldClaim {
	/** n8n has taken the execution: remember the event for the memory's age. */
	handedOver(): Promise<void>;
	/** Nothing was handed over: forget the claim so a redelivery runs. */
	release(): Promise<void>;
}

export type ClaimResult =
	| { verdict: 'claimed'; claim: HeldClaim }
	/** Another delivery of the event holds a claim right now. */
	| { verdict: 'in_progress' }
	/** The event's execution was handed to n8n before. */
	| { verdict: 'handed_over' };

export interface EventMemory {
	claim(eventId: string): Promise<ClaimResult>;
}

export interface ClaimLifetimes {
	/** How long an unfinished claim holds: past Kallglot's 30 s, a delivery has been given up and will be redelivered. */
	pendingMs: number;
	/** How long a handed-over event is remembered: Kallglot retries for about 41.5 hours. */
	rememberMs: number;
}

export const DEFAULT_CLAIM_LIFETIMES: ClaimLifetimes = {
	pendingMs: 35_000,
	rememberMs: DEFAULT_SEEN_LIMITS.maxAgeSeconds * 1000,
};

/**
 * The memory of one trigger in this process: handed-over ids in a bounded `SeenEvents` (saved with
 * the workflow by n8n), claims in flight in a map. Synchronous inside, so two deliveries in one
 * process can never both claim an id.
 */
export class ProcessEventMemory implements EventMemory {
	private readonly pending = new Map<string, number>();

	constructor(
		readonly seen: SeenEvents,
		private readonly pendingMs: number = DEFAULT_CLAIM_LIFETIMES.pendingMs,
		private readonly clock: () => number = Date.now,
	) {}

	private nowSeconds(): number {
		return Math.floor(this.clock() / 1000);
	}

	async claim(eventId: string): Promise<ClaimResult> {
		return this.claimNow(eventId);
	}

	claimNow(eventId: string): ClaimResult {
		const now = this.clock();
		for (const [id, until] of this.pending) if (until <= now) this.pending.delete(id);
		if (this.seen.has(eventId, this.nowSeconds())) return { verdict: 'handed_over' };
		if (this.pending.has(eventId)) return { verdict: 'in_progress' };
		const until = now + this.pendingMs;
		this.pending.set(eventId, until);
		const ours = () => this.pending.get(eventId) === until;
		return {
			verdict: 'claimed',
			claim: {
				handedOver: async () => {
					if (ours()) this.pending.delete(eventId);
					this.seen.claim(eventId, this.nowSeconds());
				},
				release: async () => {
					if (ours()) this.pending.delete(eventId);
				},
			},
		};
	}

	/**
	 * What to save with the workflow now. With `handingOver`, that id is in it too: n8n saves the
	 * static data only when it answers the delivery, which it does once it has taken the execution.
	 */
	stateFor(handingOver?: string): SeenEventsState {
		const state = this.seen.toState();
		if (handingOver === undefined || handingOver in state.ids) return state;
		state.ids[handingOver] = this.nowSeconds();
		const ids = Object.keys(state.ids);
		// Oldest first: the saved copy stays within the limit, as the process memory does.
		for (const id of ids.slice(0, Math.max(0, ids.length - this.seen.limits.maxEntries))) delete state.ids[id];
		return state;
	}
}

export interface ProcessEventMemoriesLimits {
	/** How many triggers are kept; past it the least recently used is forgotten. */
	maxTriggers: number;
	/** A trigger without a delivery for this long holds only expired ids and claims: forgotten. */
	idleMs: number;
}

export const DEFAULT_PROCESS_MEMORIES_LIMITS: ProcessEventMemoriesLimits = {
	maxTriggers: 1000,
	idleMs: DEFAULT_CLAIM_LIFETIMES.rememberMs,
};

/**
 * One ProcessEventMemory per trigger (workflow + node) in this process, bounded: a trigger idle for
 * the memory's age is dropped (it holds nothing unexpired), and past `maxTriggers` the least
 * recently used one (its handed-over ids are in the saved static data; only its claims in flight
 * are lost, so a copy of such an event arriving at that moment could run twice).
 */
export class ProcessEventMemories {
	private readonly memories = new Map<string, { memory: ProcessEventMemory; usedAt: number }>();

	constructor(
		private readonly clock: () => number = Date.now,
		private readonly limits: ProcessEventMemoriesLimits = DEFAULT_PROCESS_MEMORIES_LIMITS,
	) {}

	get size(): number {
		return this.memories.size;
	}

	/** The trigger's memory, with the persisted state merged in. */
	forTrigger(key: string, persisted: unknown, limits: SeenEventsLimits = DEFAULT_SEEN_LIMITS): ProcessEventMemory {
		const now = this.clock();
		let entry = this.memories.get(key);
		// Re-inserted on every use, so the map runs from least to most recently used.
		this.memories.delete(key);
		this.evict(now);
		entry ??= { memory: new ProcessEventMemory(new SeenEvents(limits), DEFAULT_CLAIM_LIFETIMES.pendingMs, this.clock), usedAt: now };
		entry.usedAt = now;
		this.memories.set(key, entry);
		entry.memory.seen.limits = limits;
		entry.memory.seen.load(persisted);
		return entry.memory;
	}

	private evict(now: number): void {
		for (const [key, entry] of this.memories) {
			if (this.memories.size < this.limits.maxTriggers && now - entry.usedAt <= this.limits.idleMs) break;
			this.memories.delete(key);
		}
	}
}
