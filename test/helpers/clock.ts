/**
 * A fake Clock (nodes/shared/clock.ts): time moves only when a test advances it, and every timer
 * due on the way fires at its own time, in order. Between timers the real event loop turns once
 * (setImmediate), so promise chains and loopback I/O a timer started can settle: tests wait on
 * conditions, never on wall time.
 */
import type { Clock, TimerHandle } from '../../nodes/shared/clock';

interface FakeTimer {
	at: number;
	/** The delay it was armed with. */
	ms: number;
	seq: number;
	callback: () => void;
}

/** One real event-loop turn: pending promise callbacks and ready I/O run. */
export const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class FakeClock implements Clock {
	private time: number;
	private seq = 0;
	private readonly timers = new Map<number, FakeTimer>();

	/** Starts at the real time by default: stream tokens from the sandbox then look fresh. */
	constructor(start: number = Date.now()) {
		this.time = start;
	}

	now(): number {
		return this.time;
	}

	setTimeout(callback: () => void, ms: number): TimerHandle {
		const id = ++this.seq;
		const delay = Math.max(0, Number.isFinite(ms) ? ms : 0);
		this.timers.set(id, { at: this.time + delay, ms: delay, seq: id, callback });
		return id as unknown as TimerHandle;
	}

	clearTimeout(timer: TimerHandle): void {
		this.timers.delete(timer as unknown as number);
	}

	/** Timers armed and not yet fired. */
	get pending(): number {
		return this.timers.size;
	}

	/** Timers armed so far, fired and cleared ones included: grows with every setTimeout. */
	get armed(): number {
		return this.seq;
	}

	/** The delays, as armed, of the timers still pending among those armed after the first `count` (see `armed`). */
	pendingArmedAfter(count: number): number[] {
		return [...this.timers.values()].filter((t) => t.seq > count).map((t) => t.ms);
	}

	/** Milliseconds until each armed timer fires, soonest first. */
	get delays(): number[] {
		return [...this.timers.values()].map((t) => t.at - this.time).sort((a, b) => a - b);
	}

	/** Moves time forward by `ms`, firing every timer due on the way at its own time. */
	async advance(ms: number): Promise<void> {
		const target = this.time + ms;
		for (;;) {
			await turn();
			const due = this.soonest();
			if (!due || due.at > target) break;
			this.timers.delete(due.seq);
			this.time = due.at;
			due.callback();
		}
		this.time = target;
		await turn();
	}

	/** Moves time to the soonest timer and fires it (and any due at the same time); the time moved. */
	async fireNext(): Promise<number> {
		await turn();
		const due = this.soonest();
		if (!due) throw new Error('no timer is armed');
		const moved = due.at - this.time;
		await this.advance(moved);
		return moved;
	}

	private soonest(): FakeTimer | undefined {
		let best: FakeTimer | undefined;
		for (const t of this.timers.values()) if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
		return best;
	}
}

/**
 * Resolves once `condition` holds, looking again every real millisecond (the loopback I/O between
 * two timers takes real time). No bound of its own: the test's timeout is the only one.
 */
export async function until(condition: () => boolean): Promise<void> {
	while (!condition()) await new Promise((resolve) => setTimeout(resolve, 1));
}

/**
 * Runs `work` to its end on `clock`, for code whose only timers on `clock` are its waits: whenever
 * it is parked on one (nothing else in flight), `parked` is called, then the soonest timer fires.
 * Time moves only in those steps, so what the code sent between two of them went out at the time
 * `parked` reads. The waits fired, in order.
 */
export async function stepToEnd<T>(
	clock: FakeClock,
	work: Promise<T>,
	parked?: () => void,
): Promise<{ result: PromiseSettledResult<T>; waits: number[] }> {
	let result: PromiseSettledResult<T> | undefined;
	void work.then(
		(value) => (result = { status: 'fulfilled', value }),
		(reason: unknown) => (result = { status: 'rejected', reason }),
	);
	const waits: number[] = [];
	for (;;) {
		await until(() => result !== undefined || clock.pending > 0);
		parked?.();
		if (result) return { result, waits };
		waits.push(await clock.fireNext());
	}
}
