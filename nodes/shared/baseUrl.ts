/**
 * The Kallglot base URL a credential may point at. An API key must never travel in clear text,
 * so plain http:// is accepted only for loopback hosts (a local sandbox).
 */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export const DEFAULT_BASE_URL = 'https://api.kallglot.com/v1';

export class InsecureBaseUrlError extends Error {}

/** The base URL without a trailing slash, or the message that says how to fix it. */
export function parseBaseUrl(value: unknown): { url: string } | { problem: string } {
	const raw = typeof value === 'string' && value.trim() !== '' ? value.trim() : DEFAULT_BASE_URL;
	if (!URL.canParse(raw)) {
		return { problem: `The Kallglot Base URL "${raw}" is not a valid URL: use e.g. ${DEFAULT_BASE_URL}` };
	}
	const url = new URL(raw);
	if (url.protocol === 'https:') return { url: raw.replace(/\/+$/, '') };
	if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return { url: raw.replace(/\/+$/, '') };
	return {
		problem:
			`The Kallglot Base URL "${raw}" is not allowed: the API key would travel unencrypted. ` +
			'Use an https:// URL (plain http:// is accepted only for localhost, 127.0.0.1 or ::1).',
	};
}

/** Returns the base URL without a trailing slash, or throws a message that says how to fix it. */
export function checkBaseUrl(value: unknown): string {
	const parsed = parseBaseUrl(value);
	if ('problem' in parsed) throw new InsecureBaseUrlError(parsed.problem);
	return parsed.url;
}
