/**
 * What the trigger has handed to n8n, kept in a plain object that outlives the trigger instance
 * (n8n's workflow static data: saved with the workflow when an execution is emitted, and read
 * again on re-activation and after a restart). A final replayed by Kallglot after any of those is
 * recognised and dropped.
 *
 * Per session: `w` the highest final `sequence` emitted, `r` the last K identities emitted (final
 * sequences, or a short hash of speaker + text for finals without one), `t` when it was last
 * written. At most N sessions are kept (least recently written evicted), so the object stays
 * small: about N × K numbers.
 */
import { createHash } from 'node:crypto';

export const EMITTED_MAX_SESSIONS = 20;
export const EMITTED_MAX_RECENT = 200;

interface SessionMemory {
	w: number | null;
	r: Array<number | string>;
	t: number;
}

export interface FinalRef {
	sequence: number | null;
	speaker: string;
	text: string;
}

/** The identity kept for a final: its sequence, or a 16-hex hash of speaker + text. */
export function finalKey(final: FinalRef): number | string {
	if (final.sequence !== null) return final.sequence;
	return createHash('sha256').update(`${final.speaker}\u0000${final.text}`).digest('hex').slice(0, 16);
}

export class EmittedFinals {
	/**
	 * @param data the persisted object (e.g. getWorkflowStaticData('node')); this class owns its
	 *   `emitted` key and re-assigns it on every write, so n8n's change tracking sees the write.
	 */
	constructor(
		private readonly data: Record<string, unknown>,
		private readonly maxSessions = EMITTED_MAX_SESSIONS,
		private readonly maxRecent = EMITTED_MAX_RECENT,
	) {}

	private memory(): Record<string, SessionMemory> {
		const value = this.data.emitted;
		return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, SessionMemory>) : {};
	}

	/** Whether this final was emitted before (by this or an earlier instance). */
	has(sessionId: string, final: FinalRef): boolean {
		const session = this.memory()[sessionId];
		if (!session || !Array.isArray(session.r)) return false;
		const key = finalKey(final);
		// Past the highest sequence recorded: new (the usual case, no scan of the window).
		if (typeof key === 'number' && typeof session.w === 'number' && key > session.w) return false;
		if (session.r.includes(key)) return true;
		// Older than everything the full window still holds: emitted long ago.
		if (typeof key === 'number' && session.r.length >= this.maxRecent) {
			const numbers = session.r.filter((k): k is number => typeof k === 'number');
			return numbers.length > 0 && key < Math.min(...numbers);
		}
		return false;
	}

	/** Remembers finals about to be emitted at `now` (ms since the epoch). Call BEFORE emit: n8n saves static data on emit. */
	record(sessionId: string, finals: FinalRef[], now: number): void {
		if (finals.length === 0) return;
		const memory = this.memory();
		const session: SessionMemory = memory[sessionId] ?? { w: null, r: [], t: 0 };
		for (const final of finals) {
			const key = finalKey(final);
			const isNew = typeof key === 'number' && typeof session.w === 'number' && key > session.w;
			if (isNew || !session.r.includes(key)) session.r.push(key);
			if (final.sequence !== null && (session.w === null || final.sequence > session.w)) session.w = final.sequence;
		}
		if (session.r.length > this.maxRecent) session.r.splice(0, session.r.length - this.maxRecent);
		session.t = now;
		memory[sessionId] = session;
		const ids = Object.keys(memory);
		if (ids.length > this.maxSessions) {
			ids.sort((a, b) => memory[a].t - memory[b].t);
			for (const id of ids.slice(0, ids.length - this.maxSessions)) delete memory[id];
		}
		this.data.emitted = memory;
	}
}
