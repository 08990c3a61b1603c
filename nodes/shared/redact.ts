/**
 * Secret redaction for anything that may reach a log line or an error message.
 *
 * Kallglot secrets have recognisable shapes: API keys `sk_live_…` / `sk_test_…` (and the sandbox's
 * `sk_sandbox_…`), stream tokens
 * `kst_…`, and the stream token travels as the `token` query parameter of the stream URL
 * (wire.STREAM_TOKEN_PARAM). Everything here is pure and imports nothing from n8n, so the stream
 * client and the nodes share it.
 */
import { STREAM_TOKEN_PARAM } from './wire';

export const REDACTED = '***';

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `?token=…` / `&token=…` (also URL-encoded `%3Ftoken%3D…` / `%26token%3D…`, as in a nested URL). */
const QUERY_SECRET = new RegExp(
	`([?&](?:${escapeRegExp(STREAM_TOKEN_PARAM)}|access_token|api_key|apikey)=)[^&#\\s"'<>]*`,
	'gi',
);
const ENCODED_QUERY_SECRET = new RegExp(
	`((?:%3F|%26)${escapeRegExp(STREAM_TOKEN_PARAM)}%3D)[^&#\\s"'<>%]*`,
	'gi',
);
/** Stream tokens (`kst_live_…`, `kst_test_…`, any `kst_…`). */
const STREAM_TOKEN = /\bkst_[A-Za-z0-9_-]+/g;
/** API keys. */
const API_KEY = /\bsk_(?:live|test|sandbox)_[A-Za-z0-9_-]+/g;
/** `Authorization: Bearer …` as printed by HTTP clients. */
const BEARER = /(\bBearer\s+)[A-Za-z0-9._~+/=-]+/gi;
/** `"token": "…"` / `"api_key": "…"` inside printed JSON. */
const JSON_SECRET = /("(?:token|api_?key|apiKey|access_token)"\s*:\s*")[^"]*(")/gi;

/**
 * Replaces every secret found in `text` with `***`: query-string tokens, `kst_…` stream tokens,
 * `sk_live_…` / `sk_test_…` API keys, bearer credentials and `"token": "…"` JSON members.
 * Non-string input is stringified first; the function never throws.
 */
export function redactSecrets(text: string): string {
	let out = typeof text === 'string' ? text : String(text);
	out = out.replace(QUERY_SECRET, `$1${REDACTED}`);
	out = out.replace(ENCODED_QUERY_SECRET, `$1${REDACTED}`);
	out = out.replace(JSON_SECRET, `$1${REDACTED}$2`);
	out = out.replace(BEARER, `$1${REDACTED}`);
	out = out.replace(STREAM_TOKEN, REDACTED);
	out = out.replace(API_KEY, REDACTED);
	return out;
}

/**
 * A URL fit for a log line: the `token` query value and any userinfo password become `***`,
 * everything else (scheme, host, path, other parameters) is kept. Works on strings that are not
 * valid URLs too (falls back to `redactSecrets`).
 */
export function redactUrl(url: string | URL): string {
	const text = typeof url === 'string' ? url : url.toString();
	const withoutPassword = text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/?#@:]*):[^/?#@]*@/i, `$1:${REDACTED}@`);
	return redactSecrets(withoutPassword);
}

/** Replaces each literal secret (e.g. the token the caller holds) in `text`; short strings are ignored. */
export function redactLiterals(text: string, secrets: Iterable<string>): string {
	let out = text;
	for (const secret of secrets) {
		if (typeof secret === 'string' && secret.length >= 8) out = out.split(secret).join(REDACTED);
	}
	return out;
}
