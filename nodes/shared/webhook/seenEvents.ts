/**
 * Which webhook events were handed over to n8n, so an at-least-once retry starts no second
 * execution: a plain object kept in n8n's workflow static data (saved with the workflow, so it
 * survives a restart), bounded by count and age. ProcessEventMemory (eventMemory.ts) keeps one per
 * trigger in the process, which also heals a lost update when two deliveries saved their own copy
 * of the static data at once. Plain TypeScript, no n8n.
 */

export interface SeenEventsLimits {
	/** How many event ids are kept (the newest win). */
	maxEntries: number;
	/** How long an id is kept. Kallglot retries for about 41.5 hours. */
	maxAgeSeconds: number;
}

export const DEFAULT_SEEN_LIMITS: SeenEventsLimits = { maxEntries: 1000, maxAgeSeconds: 48 * 3600 };

/** The persisted form: event id → unix seconds it was first accepted. */
export interface SeenEventsState {
	v: 1;
	ids: Record<string, number>;
}

const isState = (value: unknown): value is SeenEventsState =>
	typeof value === 'object' &&
	value !== null &&
	(value as SeenEventsState).v === 1 &&
	typeof (value as SeenEventsState).ids === 'object' &&
	(value as SeenEventsState).ids !== null;

export class SeenEvents {
	/** Insertion order = acceptance order, so the oldest entries are first. */
	private readonly ids = new Map<string, number>();

	constructor(public limits: SeenEventsLimits = DEFAULT_SEEN_LIMITS) {}

	get size(): number {
		return this.ids.size;
	}

	/** Merges a persisted state in; anything that is not one is ignored (a fresh start, not a crash). */
	load(state: unknown): this {
		if (!isState(state)) return this;
		const entries = Object.entries(state.ids).filter(
			([id, at]) => typeof at === 'number' && Number.isFinite(at) && !this.ids.has(id),
		);
		if (entries.length) {
			const merged = [...this.ids.entries(), ...entries].sort((a, b) => a[1] - b[1]);
			this.ids.clear();
			for (const [id, at] of merged) this.ids.set(id, at);
		}
		return this;
	}

	has(id: string, now: number): boolean {
		const at = this.ids.get(id);
		return at !== undefined && now - at <= this.limits.maxAgeSeconds;
	}

	/**
	 * Records `id` unless it was seen; returns false for a duplicate. Synchronous, so two requests
	 * in one process can never both claim the same id.
	 */
	claim(id: string, now: number): boolean {
		this.prune(now);
		if (this.has(id, now)) return false;
		this.ids.delete(id);
		this.ids.set(id, now);
		this.prune(now);
		return true;
	}

	prune(now: number): void {
		for (const [id, at] of this.ids) {
			if (this.ids.size > this.limits.maxEntries || now - at > this.limits.maxAgeSeconds) this.ids.delete(id);
			else break;
		}
	}

	toState(): SeenEventsState {
		return { v: 1, ids: Object.fromEntries(this.ids) };
	}
}
