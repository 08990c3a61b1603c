/**
 * Where the stream of one session is, for each connection attempt of its stream client: the
 * token/endpoint cache of the trigger. The first attempt uses the token the session came with;
 * later ones ask Kallglot again (each token is used once), reusing an answer for SESSION_CACHE_MS
 * (Kallglot asks API clients to cache GET /v1/sessions/{id} per id briefly), and while the session
 * shows no stream, the last token once more if it still has TOKEN_MARGIN_MS left.
 * No n8n imports.
 */
import type { Clock } from '../shared/clock';
import type { EndpointResult } from '../shared/stream';
import { sessionEndReason, type SessionResponse } from '../shared/wire';
import { RateLimitWait, SessionApiError, type SessionApi } from './sessionErrors';

/** How long an answer of GET /v1/sessions/{id} is reused (Kallglot asks for a short per-id cache). */
export const SESSION_CACHE_MS = 1000;
/** A kept stream token is reused only while it has at least this long left. */
export const TOKEN_MARGIN_MS = 15_000;
/** Statuses after which asking again cannot help: the client stops reconnecting. */
const PERMANENT_STATUSES: ReadonlySet<number> = new Set([401, 403, 404]);

type SessionStream = NonNullable<SessionResponse['stream']>;

export class SessionEndpoints {
	/** The token the session came with: used by the first attempt only. */
	private first: SessionStream | null;
	/** The last token used, reused while GET shows no stream (not live right now) and it is unexpired. */
	private last: SessionStream | null = null;
	/** The last answer and when it came; `at` 0 = not reusable. */
	private cached: { at: number; session: SessionResponse };

	constructor(
		session: SessionResponse,
		private readonly api: Pick<SessionApi, 'get'>,
		private readonly clock: Clock,
		/** Aborts a fetch in flight when the listener closes. */
		private readonly signal?: AbortSignal,
	) {
		this.first = session.stream ?? null;
		// The response we have serves the first poll of a session that is not live; its token is `first`'s.
		this.cached = { at: session.stream ? 0 : clock.now(), session };
	}

	/** The stream client's resolveEndpoint. Throws an error with `permanent` when retrying cannot help. */
	async resolve(): Promise<EndpointResult> {
		if (this.first) {
			const endpoint = this.first;
			this.first = null; // used once: later attempts need a fresh token
			this.last = endpoint;
			return { kind: 'live', endpoint };
		}
		let fresh: SessionResponse;
		if (this.clock.now() - this.cached.at < SESSION_CACHE_MS) {
			fresh = this.cached.session;
		} else {
			const sessionId = this.cached.session.id;
			try {
				fresh = await this.api.get(sessionId, this.signal, true);
			} catch (error) {
				if (error instanceof SessionApiError && error.status === 404) return { kind: 'ended', reason: null };
				// Waited out between polls, not within the attempt (its timeout would count a failure).
				if (error instanceof RateLimitWait || (error instanceof SessionApiError && error.status === 429)) {
					return { kind: 'waiting', retryAfterMs: error.retryAfterMs };
				}
				const permanent = error instanceof SessionApiError && error.status !== null && PERMANENT_STATUSES.has(error.status);
				throw Object.assign(new Error((error as Error).message), { permanent });
			}
			this.cached = { at: this.clock.now(), session: fresh };
		}
		// Only `ended` is final; any other status without `stream` means "not live right now".
		if (fresh.status === 'ended') return { kind: 'ended', reason: sessionEndReason(fresh) };
		if (fresh.stream) {
			// A token is used once per GET: the next attempt asks again.
			this.cached = { at: 0, session: fresh };
			this.last = fresh.stream;
			return { kind: 'live', endpoint: fresh.stream };
		}
		if (this.last && this.validFor(this.last) > TOKEN_MARGIN_MS) {
			const endpoint = this.last;
			this.last = null; // once: if it fails, wait for a fresh one
			return { kind: 'live', endpoint };
		}
		return { kind: 'waiting' };
	}

	/** Milliseconds the stream token has left; 0 when its expiry is unknown. */
	private validFor(stream: SessionStream): number {
		const expires = stream.expires_at ? Date.parse(stream.expires_at) : NaN;
		return Number.isFinite(expires) ? expires - this.clock.now() : 0;
	}
}
