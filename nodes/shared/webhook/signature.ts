/**
 * Kallglot-Signature verification: `t=<unix s>,v1=<hex>[,v1=<hex>…]`, where
 * v1 = hex(HMAC-SHA256(secret, `${t}.` + raw request bytes)).
 *
 * The HMAC is computed over the bytes exactly as received: re-serializing parsed JSON changes
 * whitespace, key order and escapes, and would reject genuine deliveries. Plain TypeScript, no n8n.
 */
import { createHmac, timingSafeEqual } from 'crypto';

import { webhookSignatureScheme } from '../wire';

export const DEFAULT_TOLERANCE_SECONDS = 300;

export type SignatureFailure = 'missing' | 'malformed' | 'stale' | 'mismatch';

export type SignatureVerdict =
	| { ok: true; timestamp: number }
	| { ok: false; reason: SignatureFailure; message: string };

export interface VerifyOptions {
	/** The current secret first, then the previous one while rotating. Empty entries are ignored. */
	secrets: ReadonlyArray<string | undefined>;
	/** Largest accepted distance between `t` and now, either way. */
	toleranceSeconds?: number;
	/** Now, in unix seconds (tests pin it). */
	now?: number;
}

export interface ParsedSignatureHeader {
	timestamp: number;
	/** Each `v1=` value, decoded. */
	signatures: Buffer[];
}

const HEX_SHA256 = /^[0-9a-f]{64}$/i;
const UNIX_SECONDS = /^\d{1,12}$/;

/** Parses the header, or says in a few words why it cannot. Unknown schemes (v0, v2…) are skipped. */
export function parseSignatureHeader(header: string): ParsedSignatureHeader | string {
	let timestamp: number | undefined;
	const signatures: Buffer[] = [];
	for (const part of header.split(',')) {
		const eq = part.indexOf('=');
		if (eq <= 0) return 'a part of the header is not key=value';
		const key = part.slice(0, eq).trim();
		const value = part.slice(eq + 1).trim();
		if (key === webhookSignatureScheme.timestamp) {
			if (timestamp !== undefined) return 'more than one t=';
			if (!UNIX_SECONDS.test(value)) return 't= is not a unix time in seconds';
			timestamp = Number(value);
		} else if (key === webhookSignatureScheme.v1) {
			if (!HEX_SHA256.test(value)) return 'a v1= value is not a hex SHA-256 digest';
			signatures.push(Buffer.from(value, 'hex'));
		}
	}
	if (timestamp === undefined) return 'no t=';
	if (signatures.length === 0) return 'no v1=';
	return { timestamp, signatures };
}

/** The v1 digest of a body for one secret. */
function computeSignature(secret: string, timestamp: number, rawBody: Buffer): Buffer {
	return createHmac('sha256', secret).update(`${timestamp}.`, 'utf8').update(rawBody).digest();
}

/** Checks a delivery. Never throws; the verdict's message names no secret and quotes no body. */
export function verifySignature(
	rawBody: Buffer,
	header: string | string[] | undefined,
	options: VerifyOptions,
): SignatureVerdict {
	const text = Array.isArray(header) ? header.join(',') : header;
	if (text === undefined || text.trim() === '') {
		return { ok: false, reason: 'missing', message: 'no Kallglot-Signature header' };
	}
	const parsed = parseSignatureHeader(text);
	if (typeof parsed === 'string') {
		return { ok: false, reason: 'malformed', message: `malformed Kallglot-Signature header: ${parsed}` };
	}

	const secrets = options.secrets.filter((s): s is string => typeof s === 'string' && s !== '');
	let matched = false;
	for (const secret of secrets) {
		const expected = computeSignature(secret, parsed.timestamp, rawBody);
		for (const candidate of parsed.signatures) {
			// Both are 32 bytes (the header parser accepts only 64 hex digits).
			if (timingSafeEqual(expected, candidate)) matched = true;
		}
	}
	if (!matched) return { ok: false, reason: 'mismatch', message: 'signature does not match the body' };

	// Checked after the signature, so "stale" always means an authentic but old (or replayed) delivery.
	const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
	const now = options.now ?? Math.floor(Date.now() / 1000);
	if (Math.abs(now - parsed.timestamp) > tolerance) {
		return { ok: false, reason: 'stale', message: `timestamp is more than ${tolerance} s from now` };
	}
	return { ok: true, timestamp: parsed.timestamp };
}
