/**
 * A bounded set of recently seen event identities (wire.eventIdentity), oldest evicted first.
 * Lets the stream client emit a frame replayed after a reconnect only once.
 */
import type { EventIdentity } from '../wire';

export class RecentIdentities {
	private readonly seen = new Set<EventIdentity>();
	/**
	 * Insertion order as a ring: the slot at `next` holds the oldest identity. (Evicting through
	 * `seen.values().next()` instead walks the Set's deleted entries first: docs/performance.md, part 1.)
	 * It grows up to `capacity`, so a quiet stream holds only what it saw.
	 */
	private readonly order: Array<EventIdentity | undefined> = [];
	private next = 0;
	readonly capacity: number;

	constructor(capacity: number) {
		if (!(Number.isInteger(capacity) && capacity >= 1)) throw new RangeError('dedupe capacity must be an integer >= 1');
		this.capacity = capacity;
	}

	/** True when `identity` was seen before (a duplicate); otherwise remembers it and returns false. */
	checkAndRemember(identity: EventIdentity): boolean {
		if (this.seen.has(identity)) return true;
		if (this.order.length < this.capacity) {
			this.order.push(identity);
		} else {
			const oldest = this.order[this.next];
			if (oldest !== undefined) this.seen.delete(oldest);
			this.order[this.next] = identity;
			this.next = (this.next + 1) % this.capacity;
		}
		this.seen.add(identity);
		return false;
	}

	has(identity: EventIdentity): boolean {
		return this.seen.has(identity);
	}

	get size(): number {
		return this.seen.size;
	}
}
