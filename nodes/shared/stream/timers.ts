/**
 * The stream client's timers by name, on an injected clock: arming a name again replaces its
 * timer, so no name is ever armed twice; `clearAll` is the client's "stop every timer".
 */
import type { Clock, TimerHandle } from '../clock';

export class NamedTimers<Name extends string> {
	private readonly armed = new Map<Name, TimerHandle>();

	/** `guard` wraps every callback (the client's: nothing thrown reaches the event loop). */
	constructor(
		private readonly clock: Clock,
		private readonly guard: (fn: () => void) => void,
	) {}

	set(name: Name, ms: number, fn: () => void): void {
		this.clear(name);
		const timer = this.clock.setTimeout(() => {
			if (this.armed.get(name) === timer) this.armed.delete(name);
			this.guard(fn);
		}, ms);
		this.armed.set(name, timer);
	}

	has(name: Name): boolean {
		return this.armed.has(name);
	}

	clear(name: Name): void {
		const timer = this.armed.get(name);
		if (timer === undefined) return;
		this.clock.clearTimeout(timer);
		this.armed.delete(name);
	}

	clearAll(): void {
		for (const name of [...this.armed.keys()]) this.clear(name);
	}

	names(): Name[] {
		return [...this.armed.keys()];
	}
}
