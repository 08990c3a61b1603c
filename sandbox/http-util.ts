/** Small helpers over node:http shared by the REST and control endpoints. */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/** Bodies larger than this are cut off: the sandbox never needs more. */
const MAX_BODY_BYTES = 1024 * 1024;

export function readBody(req: IncomingMessage): Promise<string> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		req.on('data', (chunk: Buffer) => {
			size += chunk.length;
			if (size <= MAX_BODY_BYTES) chunks.push(chunk);
		});
		req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
		req.on('error', reject);
	});
}

export interface ParsedBody {
	/** Parsed JSON; the raw text when it is not JSON; null when empty. */
	value: unknown;
	invalidJson: boolean;
}

export function parseJsonBody(raw: string): ParsedBody {
	if (raw.trim() === '') return { value: null, invalidJson: false };
	try {
		return { value: JSON.parse(raw) as unknown, invalidJson: false };
	} catch {
		return { value: raw, invalidJson: true };
	}
}

/** Lower-cased header names with raw values; repeated headers joined with ", ". */
export function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
	const flat: Record<string, string> = {};
	for (const [name, value] of Object.entries(headers)) {
		if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
	}
	return flat;
}

export function queryObject(url: URL): Record<string, string> {
	return Object.fromEntries(url.searchParams.entries());
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
	if (res.headersSent || res.destroyed) return;
	const payload = body === undefined ? '' : JSON.stringify(body);
	res.writeHead(status, {
		'Content-Type': 'application/json; charset=utf-8',
		'Content-Length': String(Buffer.byteLength(payload)),
		...headers,
	});
	res.end(payload);
}

export function sendBytes(res: ServerResponse, status: number, body: Buffer, headers: Record<string, string>): void {
	if (res.headersSent || res.destroyed) return;
	res.writeHead(status, { 'Content-Length': String(body.length), ...headers });
	res.end(body);
}
