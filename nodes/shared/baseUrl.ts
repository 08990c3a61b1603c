/**
 * The Kallglot base URL a credential may point at, for the key it holds. A Kallglot API key must
 * never travel in clear text: plain http:// is accepted for loopback hosts (a sandbox on this
 * machine) and, to any host, only for a sandbox key — a key that cannot be a Kallglot key, so a
 * sandbox in another container or on the Docker host is reachable and a real key still is not sent.
 */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export const DEFAULT_BASE_URL = 'https://api.kallglot.com/v1';

/**
 * Keys the Kallglot sandbox issues start with this. Kallglot's own keys start with sk_live_ or
 * sk_test_, so no Kallglot key can carry it.
 */
export const SANDBOX_KEY_PREFIX = 'sk_sandbox_';

export class InsecureBaseUrlError extends Error {}

export function isSandboxKey(apiKey: unknown): boolean {
	return typeof apiKey === 'string' && apiKey.startsWith(SANDBOX_KEY_PREFIX) && apiKey.length > SANDBOX_KEY_PREFIX.length;
}

/**
 * The base URL without a trailing slash, or the message that says how to fix it. `apiKey` is the
 * key that would be sent there: it decides whether plain http:// to a non-loopback host is allowed.
 */
export function parseBaseUrl(value: unknown, apiKey: unknown): { url: string } | { problem: string } {
	const raw = typeof value === 'string' && value.trim() !== '' ? value.trim() : DEFAULT_BASE_URL;
	if (!URL.canParse(raw)) {
		return { problem: `The Kallglot Base URL "${raw}" is not a valid URL: use e.g. ${DEFAULT_BASE_URL}` };
	}
	const url = new URL(raw);
	const clean = raw.replace(/\/+$/, '');
	if (url.protocol === 'https:') return { url: clean };
	if (url.protocol !== 'http:') {
		return { problem: `The Kallglot Base URL "${raw}" is not allowed: use an https:// URL, e.g. ${DEFAULT_BASE_URL}` };
	}
	if (LOOPBACK_HOSTS.has(url.hostname) || isSandboxKey(apiKey)) return { url: clean };
	return {
		problem:
			`The Kallglot Base URL "${raw}" is not allowed with this API key: the key would travel unencrypted. ` +
			'Use an https:// URL. Plain http:// is accepted only for localhost, 127.0.0.1 or ::1, ' +
			`or for a Kallglot sandbox key (${SANDBOX_KEY_PREFIX}…, e.g. a sandbox on the Docker host or in another container).`,
	};
}

/** Returns the base URL without a trailing slash, or throws a message that says how to fix it. */
export function checkBaseUrl(value: unknown, apiKey: unknown): string {
	const parsed = parseBaseUrl(value, apiKey);
	if ('problem' in parsed) throw new InsecureBaseUrlError(parsed.problem);
	return parsed.url;
}
