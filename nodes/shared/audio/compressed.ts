/**
 * MP3 and FLAC through the wasm-audio-decoders family (mpg123 and libFLAC compiled to
 * WebAssembly): the file is fed in slices and decoded block by block, so memory stays bounded
 * whatever the file's length.
 */
// eslint-disable-next-line @n8n/community-nodes/no-restricted-imports -- MP3 is decoded by mpg123 (WebAssembly), not by code of ours
import { MPEGDecoder } from 'mpg123-decoder';
// eslint-disable-next-line @n8n/community-nodes/no-restricted-imports -- FLAC is decoded by libFLAC (WebAssembly), not by code of ours
import { FLACDecoder } from '@wasm-audio-decoders/flac';

import { AudioInputError } from './errors';
import { mpegChannelCount } from './sniff';
import type { Container, DecodedBlock } from './types';

/** Bytes handed to a decoder at a time (about 4 s of a 128 kbit/s MP3). */
const SLICE_BYTES = 64 * 1024;

interface Decoded {
	channelData: Float32Array[];
	samplesDecoded: number;
	sampleRate: number;
	errors: Array<{ message: string }>;
}

interface Decoder {
	ready: Promise<void>;
	decode(bytes: Uint8Array): Decoded | Promise<Decoded>;
	flush?(): Promise<Decoded>;
	free(): void;
}

function newDecoder(container: Exclude<Container, 'wav' | 'ogg'>): Decoder {
	return container === 'mp3' ? new MPEGDecoder() : new FLACDecoder();
}

/** Decodes an MP3 or FLAC file into blocks; a file that yields no samples is reported as such. */
export async function* compressedBlocks(bytes: Buffer, container: 'mp3' | 'flac'): AsyncGenerator<DecodedBlock> {
	const decoder = newDecoder(container);
	try {
		await decoder.ready;
		let samples = 0;
		let errors = 0;
		// mpg123 decodes a single-channel MP3 as two identical channels: keep one.
		const channels = container === 'mp3' ? mpegChannelCount(bytes) : null;
		const take = (decoded: Decoded): DecodedBlock | null => {
			errors += decoded.errors.length;
			if (decoded.samplesDecoded === 0) return null;
			samples += decoded.samplesDecoded;
			const channelData = channels === 1 ? decoded.channelData.slice(0, 1) : decoded.channelData;
			return { sampleRate: decoded.sampleRate, channelData };
		};
		for (let offset = 0; offset < bytes.length; offset += SLICE_BYTES) {
			const block = take(await decoder.decode(bytes.subarray(offset, offset + SLICE_BYTES)));
			if (block) yield block;
		}
		if (decoder.flush) {
			const block = take(await decoder.flush());
			if (block) yield block;
		}
		if (samples === 0) {
			throw new AudioInputError(
				errors > 0 ? 'corrupt' : 'empty',
				errors > 0 ? `The ${container.toUpperCase()} file could not be decoded (${errors} damaged frame(s)).` : `The ${container.toUpperCase()} file holds no audio.`,
			);
		}
	} finally {
		decoder.free();
	}
}
