/**
 * What a connection failure means and what fixes it, for the REST calls and the stream alike:
 * an untrusted certificate is a CA to add (NODE_EXTRA_CA_CERTS), not "the network"; a name that
 * does not resolve may need the proxy variables; a refused connection from Docker is often
 * "localhost is the container". Plain TypeScript without n8n imports.
 */
import { redactSecrets } from './redact';

export interface NetworkFailure {
	/** Node's error code when there is one (e.g. SELF_SIGNED_CERT_IN_CHAIN, ENOTFOUND). */
	code: string | null;
	/** What happened, in a few words, naming the problem (e.g. "the TLS certificate … is not trusted"). */
	problem: string;
	/** What the user does about it. */
	fix: string;
	/** Whether trying again soon can help (a certificate or a name that does not resolve will not). */
	transient: boolean;
}

export interface FailureContext {
	/** The URL that was being reached (its host names the failure). */
	url: string;
	/** The proxy the connection went through (already redacted), if any. */
	proxy: string | null;
}

const UNTRUSTED_CERTIFICATE = new Set([
	'SELF_SIGNED_CERT_IN_CHAIN',
	'DEPTH_ZERO_SELF_SIGNED_CERT',
	'UNABLE_TO_GET_ISSUER_CERT',
	'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
	'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
	'CERT_UNTRUSTED',
	'CERT_SIGNATURE_FAILURE',
]);
const CERTIFICATE_DATES = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
const NOT_TLS = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'EPROTO']);
const UNRESOLVED = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME']);
const UNREACHABLE = new Set(['ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'UND_ERR_SOCKET']);

const KNOWN_CODES = [
	...UNTRUSTED_CERTIFICATE,
	...CERTIFICATE_DATES,
	'ERR_TLS_CERT_ALTNAME_INVALID',
	...NOT_TLS,
	...UNRESOLVED,
	'ECONNREFUSED',
	...UNREACHABLE,
];

type RawFailure = { code?: unknown; cause?: { code?: unknown }; httpCode?: unknown; status?: unknown; message?: unknown; messages?: unknown } | null;

/** Where a forward proxy's user name and password go: the proxy URL n8n reads at start. */
export const PROXY_CREDENTIALS_FIX =
	'Put the user name and password in the proxy URL n8n uses, e.g. HTTPS_PROXY=http://user:password@host:port ' +
	'(HTTP_PROXY for a plain http:// Base URL; percent-encode characters such as @ : / in them), then restart n8n: the variables are read only at start.';

/**
 * The failure's original message: n8n-core's request helpers throw a NodeApiError whose message
 * may already be n8n's generic sentence; the original is the first of its `messages`.
 */
export function originalMessage(error: unknown): string {
	const e = error as RawFailure;
	const first = Array.isArray(e?.messages) ? e.messages.find((m): m is string => typeof m === 'string' && m !== '') : undefined;
	return redactSecrets(first ?? (typeof e?.message === 'string' ? e.message : String(error ?? 'unknown error')));
}

/**
 * Node's error code of `error`: its code, its cause's, the code n8n-core's NodeApiError keeps as
 * `httpCode` when there was no HTTP status, or a known code named in its message.
 */
function failureCode(error: unknown): string | null {
	const e = error as RawFailure;
	for (const code of [e?.code, e?.cause?.code, e?.httpCode]) if (typeof code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(code)) return code;
	const text = [originalMessage(error), typeof e?.message === 'string' ? e.message : ''].join(' ');
	return KNOWN_CODES.find((known) => new RegExp(`\\b${known}\\b`).test(text)) ?? null;
}

function hostOf(url: string, withPort = true): string {
	if (!URL.canParse(url)) return redactSecrets(url);
	const parsed = new URL(url);
	return withPort ? parsed.host : parsed.hostname;
}

const CA_FIX =
	'If a company proxy or gateway inspects TLS with its own certificate authority, give n8n that CA: ' +
	'start n8n with NODE_EXTRA_CA_CERTS=/path/to/company-ca.pem (a PEM file; in Docker, mount the file and set the variable), ' +
	'then restart n8n: the variable is read only at start. Do not turn certificate checks off.';

/** The meaning of `error` (thrown while connecting to context.url) and its fix. */
export function explainNetworkFailure(error: unknown, context: FailureContext): NetworkFailure {
	const code = failureCode(error);
	const host = hostOf(context.url);
	const via = context.proxy ? ` through the proxy ${context.proxy}` : '';
	const proxyHint = context.proxy
		? ` n8n reaches ${host} through the proxy ${context.proxy} (from HTTPS_PROXY / HTTP_PROXY): check that proxy, or list the host in NO_PROXY to go direct.`
		: '';
	if ((error as RawFailure)?.status === 407) {
		// The proxy URL in a message is already redacted: a password in it reads "***", so "@" tells whether one was given.
		const given = context.proxy?.includes('@') === true;
		const proxy = context.proxy ? `the proxy ${context.proxy}` : `a proxy between n8n and ${host}`;
		return {
			code,
			problem: `${proxy} ${given ? 'did not accept the user name and password in its URL' : 'asks for a user name and password'} (HTTP 407 Proxy Authentication Required)`,
			fix: given ? `Check the user name and password in the proxy URL. ${PROXY_CREDENTIALS_FIX}` : PROXY_CREDENTIALS_FIX,
			transient: false,
		};
	}
	if (code !== null && UNTRUSTED_CERTIFICATE.has(code)) {
		return { code, problem: `the TLS certificate presented for ${host} is not trusted (${code})`, fix: CA_FIX, transient: false };
	}
	if (code !== null && CERTIFICATE_DATES.has(code)) {
		return {
			code,
			problem: `the TLS certificate presented for ${host} ${code === 'CERT_HAS_EXPIRED' ? 'has expired' : 'is not valid yet'} (${code})`,
			fix: "Check this machine's clock. If it is right, the certificate of the server (or of a TLS-inspecting proxy) must be renewed.",
			transient: false,
		};
	}
	if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
		return {
			code,
			problem: `the TLS certificate presented for ${host} is issued for another name (${code})`,
			fix: 'Use the host name the certificate was issued for in the Base URL (an IP address needs a certificate that lists it).',
			transient: false,
		};
	}
	if (code !== null && NOT_TLS.has(code)) {
		return {
			code,
			problem: `${host} did not answer with TLS (${code})`,
			fix: 'The server at that address speaks plain HTTP (a local sandbox does): use the http:// URL it prints, or the https:// address of Kallglot.',
			transient: false,
		};
	}
	if (code !== null && UNRESOLVED.has(code)) {
		return {
			code,
			problem: `the host name ${context.proxy ? `of the proxy ${context.proxy}` : hostOf(context.url, false)} could not be resolved (${code})`,
			fix: context.proxy
				? 'Check the proxy address in HTTPS_PROXY / HTTP_PROXY.'
				: `Check the host in the Base URL. If n8n reaches the internet only through a proxy, set HTTPS_PROXY (and NO_PROXY for local hosts) for n8n and restart it.`,
			transient: code === 'EAI_AGAIN',
		};
	}
	if (code === 'ECONNREFUSED') {
		return {
			code,
			problem: context.proxy ? `the proxy ${context.proxy} refused the connection (${code})` : `${host} refused the connection (${code})`,
			fix: context.proxy
				? 'Check that the proxy in HTTPS_PROXY / HTTP_PROXY runs and accepts connections from n8n.'
				: 'Check the Base URL and that the server runs. In Docker, localhost is the container itself: reach a service on the host as host.docker.internal, another container by its service name.',
			transient: true,
		};
	}
	if (code !== null && UNREACHABLE.has(code)) {
		return {
			code,
			problem: `the connection to ${host}${via} failed (${code})`,
			fix: `Check the network between n8n and ${host} (firewall, proxy), then try again.${proxyHint}`,
			transient: true,
		};
	}
	const message = originalMessage(error);
	return {
		code,
		problem: `the connection to ${host}${via} failed: ${message}`,
		fix: `Check the credential's Base URL and the network between n8n and ${host}.${proxyHint}`,
		transient: true,
	};
}
