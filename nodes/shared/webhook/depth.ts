/**
 * How deep a JSON body nests, counted on the raw bytes before anything parses it: a validly signed
 * body 20,000 levels deep would parse, run and be saved, but n8n can no longer read such an
 * execution back (its recursive readers overflow the stack). One pass, no recursion. Plain
 * TypeScript.
 */
export const MAX_BODY_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** Whether objects/arrays nest deeper than `limit` anywhere in `raw` (strings are skipped). */
export function nestsDeeperThan(raw: Uint8Array, limit: number = MAX_BODY_DEPTH): boolean {
	let depth = 0;
	let inString = false;
	for (let i = 0; i < raw.length; i++) {
		const byte = raw[i];
		if (inString) {
			if (byte === BACKSLASH) i++;
			else if (byte === QUOTE) inString = false;
		} else if (byte === QUOTE) {
			inString = true;
		} else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
			if (++depth > limit) return true;
		} else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
			depth--;
		}
	}
	return false;
}
