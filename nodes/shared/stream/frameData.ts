/** A socket message as a parsed frame: binary and oversized frames are problems, never parsed. */
import { parseServerFrame, type StreamEvent } from '../wire';
import type { RawData } from './socket';
import type { StreamProblemKind } from './problems';

export type DecodedMessage = { ok: true; event: StreamEvent } | { ok: false; problem: StreamProblemKind; detail: string };

function byteLength(data: RawData): number {
	if (Buffer.isBuffer(data)) return data.length;
	if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
	return data.byteLength;
}

function toText(data: RawData): string {
	if (Buffer.isBuffer(data)) return data.toString('utf8');
	if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
	return Buffer.from(data).toString('utf8');
}

export function decodeMessage(data: RawData, isBinary: boolean, maxFrameBytes: number): DecodedMessage {
	const size = byteLength(data);
	if (isBinary) return { ok: false, problem: 'binary', detail: `binary frame of ${size} bytes (only JSON text frames are expected)` };
	if (size > maxFrameBytes) {
		return { ok: false, problem: 'oversized', detail: `frame of ${size} bytes exceeds the limit of ${maxFrameBytes} bytes` };
	}
	return parseServerFrame(toText(data));
}
