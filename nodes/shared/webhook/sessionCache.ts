/**
 * Session lookups for webhook events that do not carry the session (transcripts, recordings,
 * analyses): Kallglot asks clients to cache `GET /v1/sessions/{id}` per id for a short time.
 * Bounded by age and count; concurrent lookups of one id share one request. Plain TypeScript.
 */

export interface SessionCacheOptions {
	ttlMs: number;
	maxEntries: number;
}

const DEFAULT_SESSION_CACHE: SessionCacheOptions = { ttlMs: 60_000, maxEntries: 500 };

export class SessionCache<T> {
	private readonly entries = new Map<string, { value: T; at: number }>();
	private readonly inFlight = new Map<string, Promise<T>>();

	constructor(
		private readonly options: SessionCacheOptions = DEFAULT_SESSION_CACHE,
		private readonly clock: () => number = Date.now,
	) {}

	get size(): number {
		return this.entries.size;
	}

	/** A session object that arrived in an event is the freshest copy there is. */
	set(id: string, value: T): void {
		this.entries.delete(id);
		this.entries.set(id, { value, at: this.clock() });
		while (this.entries.size > this.options.maxEntries) {
			this.entries.delete(this.entries.keys().next().value as string);
		}
	}

	/** The cached session, or `load()`'s; a failed load is not cached. */
	async get(id: string, load: () => Promise<T>): Promise<T> {
		const hit = this.entries.get(id);
		if (hit && this.clock() - hit.at <= this.options.ttlMs) return hit.value;
		const pending = this.inFlight.get(id);
		if (pending) return await pending;
		const request = load().then(
			(value) => {
				this.set(id, value);
				return value;
			},
		);
		this.inFlight.set(id, request);
		try {
			return await request;
		} finally {
			this.inFlight.delete(id);
		}
	}
}
