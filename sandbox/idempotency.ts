/**
 * Idempotency keys for POST sessions / end / dial.
 *
 * Scope: API key + method + path + Idempotency-Key. The first *successful* (2xx) response is
 * stored and replayed verbatim; a failed first attempt is forgotten so the client can retry.
 */

export interface StoredResponse {
	status: number;
	body: unknown;
}

export interface IdempotencyScope {
	apiKey: string;
	method: string;
	path: string;
	key: string;
}

export type IdempotencyOutcome =
	/** First use of the key: run the request, then `finish` with its response. */
	| { kind: 'fresh'; finish(response: StoredResponse): void; abandon(): void }
	| { kind: 'replay'; response: StoredResponse }
	| { kind: 'mismatch' }
	| { kind: 'in_progress' };

type Entry =
	| { state: 'in_progress'; fingerprint: string }
	| { state: 'done'; fingerprint: string; response: StoredResponse; storedAt: number };

/** Keys live about 24 hours, as Kallglot keeps them. */
const KEY_TTL_MS = 24 * 60 * 60 * 1000;

/** Body equality ignores key order and whitespace: it compares the parameters, not the bytes. */
export function bodyFingerprint(body: unknown): string {
	const canonical = (value: unknown): unknown => {
		if (Array.isArray(value)) return value.map(canonical);
		if (typeof value === 'object' && value !== null) {
			return Object.fromEntries(
				Object.keys(value)
					.sort()
					.map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
			);
		}
		return value;
	};
	return JSON.stringify(canonical(body)) ?? 'undefined';
}

export class IdempotencyStore {
	private readonly entries = new Map<string, Entry>();

	constructor(private readonly ttlMs: number = KEY_TTL_MS) {}

	begin(scope: IdempotencyScope, body: unknown, now: number = Date.now()): IdempotencyOutcome {
		const id = JSON.stringify([scope.apiKey, scope.method, scope.path, scope.key]);
		const fingerprint = bodyFingerprint(body);
		const existing = this.entries.get(id);
		if (existing?.state === 'done' && now - existing.storedAt > this.ttlMs) this.entries.delete(id);

		const entry = this.entries.get(id);
		if (entry !== undefined) {
			if (entry.fingerprint !== fingerprint) return { kind: 'mismatch' };
			return entry.state === 'in_progress' ? { kind: 'in_progress' } : { kind: 'replay', response: entry.response };
		}

		this.entries.set(id, { state: 'in_progress', fingerprint });
		return {
			kind: 'fresh',
			finish: (response) => {
				if (response.status >= 200 && response.status < 300) {
					this.entries.set(id, { state: 'done', fingerprint, response, storedAt: Date.now() });
				} else {
					this.entries.delete(id);
				}
			},
			abandon: () => {
				this.entries.delete(id);
			},
		};
	}

	clear(): void {
		this.entries.clear();
	}
}
