/**
 * The proxy for a Kallglot URL, chosen as n8n chooses it for its own HTTP requests: n8n-core asks
 * proxy-from-env for each request's URL, which reads HTTP_PROXY / HTTPS_PROXY / ALL_PROXY and
 * NO_PROXY (lower- or upper-case, lower-case first). The stream asks the same question for the
 * http(s) URL of the same host, so the WebSocket goes where the REST calls go.
 *
 * Plain TypeScript without n8n imports: the stream client and the transport share it.
 */
// eslint-disable-next-line @n8n/community-nodes/no-restricted-imports -- the agent n8n-core itself uses for proxied https requests: it tunnels the stream's WebSocket with CONNECT
import { HttpsProxyAgent } from 'https-proxy-agent';
// eslint-disable-next-line @n8n/community-nodes/no-restricted-imports -- n8n-core's own reader of HTTP(S)_PROXY / NO_PROXY, so the stream follows the same settings as the REST calls
import { getProxyForUrl } from 'proxy-from-env';

import { redactUrl } from './redact';

const HTTP_EQUIVALENT: Record<string, string> = { 'ws:': 'http:', 'wss:': 'https:', 'http:': 'http:', 'https:': 'https:' };

/** The proxy URL for `target` (http, https, ws or wss), or null when it goes direct. */
export function proxyFor(target: string): string | null {
	if (!URL.canParse(target)) return null;
	const url = new URL(target);
	const protocol = HTTP_EQUIVALENT[url.protocol];
	if (protocol === undefined) return null;
	url.protocol = protocol;
	return getProxyForUrl(url.toString()) || null;
}

/**
 * The agent that opens a stream's WebSocket through the proxy for its URL, or undefined (direct).
 * A CONNECT tunnel for ws:// and wss:// alike: a WebSocket upgrade cannot be forwarded as a plain
 * proxied request. TLS to Kallglot still happens end to end, checked against Node's CAs (plus
 * NODE_EXTRA_CA_CERTS).
 */
export function streamAgent(streamUrl: string): HttpsProxyAgent<string> | undefined {
	const proxy = proxyFor(streamUrl);
	return proxy === null ? undefined : new HttpsProxyAgent(proxy);
}

/** The proxy for `target`, fit for a message or a log line (a password in it is masked). */
export function describeProxy(target: string): string | null {
	const proxy = proxyFor(target);
	return proxy === null ? null : redactUrl(proxy);
}
