/** What kind of file the bytes are, from their first bytes (never from a file name or MIME type). */
import { isWav } from './wav';
import type { Container } from './types';

function startsWith(bytes: Uint8Array, text: string, offset = 0): boolean {
	if (bytes.length < offset + text.length) return false;
	for (let i = 0; i < text.length; i++) if (bytes[offset + i] !== text.charCodeAt(i)) return false;
	return true;
}

/** An MPEG audio frame header: 11 sync bits, a valid layer, bitrate and sample rate index. */
function isMpegFrame(bytes: Uint8Array, offset: number): boolean {
	if (offset + 4 > bytes.length) return false;
	const b1 = bytes[offset + 1];
	const b2 = bytes[offset + 2];
	return bytes[offset] === 0xff && (b1 & 0xe0) === 0xe0 && (b1 & 0x06) !== 0 && (b2 & 0xf0) !== 0xf0 && (b2 & 0x0c) !== 0x0c;
}

/** Size of a leading ID3v2 tag (header included), or 0. */
function id3Size(bytes: Uint8Array): number {
	if (!startsWith(bytes, 'ID3') || bytes.length < 10) return 0;
	const size = ((bytes[6] & 0x7f) << 21) | ((bytes[7] & 0x7f) << 14) | ((bytes[8] & 0x7f) << 7) | (bytes[9] & 0x7f);
	return 10 + size + (bytes[5] & 0x10 ? 10 : 0);
}

/** Channels of an MP3 per its first frame header (mode bits 11 = single channel), or null. */
export function mpegChannelCount(bytes: Uint8Array): 1 | 2 | null {
	const start = id3Size(bytes);
	for (let offset = start; offset < Math.min(bytes.length, start + 64 * 1024); offset++) {
		if (isMpegFrame(bytes, offset)) return (bytes[offset + 3] & 0xc0) === 0xc0 ? 1 : 2;
	}
	return null;
}

export type Sniffed = Container | 'ogg' | 'unknown';

export function sniffContainer(bytes: Uint8Array): Sniffed {
	if (isWav(bytes)) return 'wav';
	if (startsWith(bytes, 'fLaC')) return 'flac';
	if (startsWith(bytes, 'OggS')) return 'ogg';
	const start = id3Size(bytes);
	if (start > 0 || isMpegFrame(bytes, 0)) {
		// After an ID3 tag, or at the start: two consecutive frame headers would be stricter; one is
		// enough here because the decoder has the last word (no samples → a clear error).
		if (isMpegFrame(bytes, start) || start > 0) return 'mp3';
	}
	return 'unknown';
}

/** A human name for what the bytes look like, for "this is not audio" messages. */
export function describeNonAudio(bytes: Uint8Array): string {
	if (bytes.length === 0) return 'an empty file';
	if (startsWith(bytes, '%PDF')) return 'a PDF document';
	if (startsWith(bytes, 'PK')) return 'a ZIP archive (or an Office document)';
	if (startsWith(bytes, '\x89PNG')) return 'a PNG image';
	if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'a JPEG image';
	const head = Buffer.from(bytes.subarray(0, 64)).toString('utf8').trimStart().toLowerCase();
	if (head.startsWith('<!doctype html') || head.startsWith('<html')) return 'an HTML page';
	if (head.startsWith('{') || head.startsWith('[')) return 'JSON text';
	if (startsWith(bytes, 'RIFF')) return 'a RIFF file that is not WAVE';
	if (startsWith(bytes, 'ftyp', 4)) return 'an MP4/M4A/MOV file';
	return 'not a recognized audio file';
}
