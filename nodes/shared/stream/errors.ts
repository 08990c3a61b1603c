import { redactSecrets } from '../redact';

/**
 * Why a stream connection failed.
 *
 * start() rejects with: 'unauthorized' (HTTP 401 at the handshake: bad or expired stream token),
 * 'not_found' (404: unknown session), 'ended' (410, or resolveEndpoint answered `ended`),
 * 'refused' (any other handshake status; a proxy's 407 is 'network'), 'timeout' (no handshake + session.ready in time, or
 * resolveEndpoint too slow), 'network' (TCP/TLS/socket failure), 'endpoint' (resolveEndpoint threw
 * or returned something unusable; the original error is `cause`), 'closed' (close() was called
 * before the connection was made).
 */
export type StreamClientErrorKind =
	| 'unauthorized'
	| 'not_found'
	| 'ended'
	| 'refused'
	| 'timeout'
	| 'network'
	| 'endpoint'
	| 'closed';

export interface StreamClientErrorDetails {
	/** HTTP status of a refused handshake. */
	status?: number;
	/** True when retrying cannot help (e.g. resolveEndpoint reported a bad API key). */
	permanent?: boolean;
	/** Consecutive connection attempts made when the client gave up. */
	attempts?: number;
	/** Original error (only errors thrown by resolveEndpoint; ws errors are never attached, they may carry the URL). */
	cause?: unknown;
}

export class StreamClientError extends Error {
	readonly kind: StreamClientErrorKind;
	readonly status?: number;
	readonly permanent: boolean;
	readonly attempts?: number;

	/** The message is passed through redactSecrets: it never carries a token or an API key. */
	constructor(kind: StreamClientErrorKind, message: string, details: StreamClientErrorDetails = {}) {
		super(redactSecrets(message), details.cause === undefined ? undefined : { cause: details.cause });
		this.name = 'StreamClientError';
		this.kind = kind;
		this.permanent = details.permanent ?? false;
		if (details.status !== undefined) this.status = details.status;
		if (details.attempts !== undefined) this.attempts = details.attempts;
	}
}

/** HTTP 407: a forward proxy on the way (HTTPS_PROXY / HTTP_PROXY) wants credentials, not Kallglot. */
export const PROXY_AUTHENTICATION_REQUIRED = 407;

/** The error kind for a refused WebSocket handshake. */
export function handshakeErrorKind(status: number): StreamClientErrorKind {
	// The connection failed before Kallglot was reached: explained like any network failure (networkFailure.ts).
	if (status === PROXY_AUTHENTICATION_REQUIRED) return 'network';
	if (status === 401) return 'unauthorized';
	if (status === 404) return 'not_found';
	if (status === 410) return 'ended';
	return 'refused';
}

export function handshakeError(status: number): StreamClientError {
	if (status === PROXY_AUTHENTICATION_REQUIRED) {
		// Retrying cannot help: the proxy settings are read when n8n starts.
		return new StreamClientError('network', 'the proxy asked for a user name and password (HTTP 407 Proxy Authentication Required)', {
			status,
			permanent: true,
		});
	}
	const kind = handshakeErrorKind(status);
	const why =
		kind === 'unauthorized'
			? 'the stream token is invalid or expired'
			: kind === 'not_found'
				? 'the session does not exist'
				: kind === 'ended'
					? 'the session has ended'
					: 'the server refused the stream';
	return new StreamClientError(kind, `Kallglot stream handshake refused with HTTP ${status}: ${why}`, { status });
}

/** A safe one-line description of any thrown value (message plus code, redacted). */
export function describeError(error: unknown): string {
	if (error instanceof Error) {
		const code = (error as { code?: unknown }).code;
		const text = typeof code === 'string' && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
		return redactSecrets(text || error.name);
	}
	try {
		return redactSecrets(typeof error === 'string' ? error : JSON.stringify(error) ?? String(error));
	} catch {
		return 'unknown error';
	}
}
