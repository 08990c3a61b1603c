/**
 * A bounded set of recently seen event identities (wire.eventIdentity), oldest evicted first.
 * Lets the stream client emit a frame replayed after a reconnect only once.
 */
export class RecentIdentities {
	private readonly seen = new Set<string>();
	readonly capacity: number;

	constructor(capacity: number) {
		if (!(Number.isInteger(capacity) && capacity >= 1)) throw new RangeError('dedupe capacity must be an integer >= 1');
		this.capacity = capacity;
	}

	/** True when `identity` was seen before (a duplicate); otherwise remembers it and returns false. */
	checkAndRemember(identity: string): boolean {
		if (this.seen.has(identity)) return true;
		this.seen.add(identity);
		if (this.seen.size > this.capacity) {
			const oldest = this.seen.values().next().value;
			if (oldest !== undefined) this.seen.delete(oldest);
		}
		return false;
	}

	has(identity: string): boolean {
		return this.seen.has(identity);
	}

	get size(): number {
		return this.seen.size;
	}

	clear(): void {
		this.seen.clear();
	}
}
