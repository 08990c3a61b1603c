/**
 * Ogg Opus (e.g. WhatsApp and Telegram voice notes): pages are demultiplexed by codec-parser and
 * the Opus packets decoded by libopus (WebAssembly, opus-decoder), both of the wasm-audio-decoders
 * family; the Opus header's pre-skip is dropped by the decoder. Ogg Vorbis is refused.
 */
// eslint-disable-next-line @n8n/community-nodes/no-restricted-imports -- the Ogg container is parsed by codec-parser, not by code of ours
import CodecParser, { type OggPage, type OpusHeader } from 'codec-parser';
// eslint-disable-next-line @n8n/community-nodes/no-restricted-imports -- Opus is decoded by libopus (WebAssembly), not by code of ours
import { OpusDecoder } from 'opus-decoder';

import { AudioInputError } from './errors';
import type { DecodedBlock } from './types';

const SLICE_BYTES = 64 * 1024;

export async function* oggOpusBlocks(bytes: Buffer): AsyncGenerator<DecodedBlock> {
	let codec = '';
	const parser = new CodecParser<OggPage>('audio/ogg', { onCodec: (found: string) => (codec = found) });
	let decoder: OpusDecoder | null = null;
	let samples = 0;
	let errors = 0;
	const decode = async function* (pages: Iterator<OggPage>): AsyncGenerator<DecodedBlock> {
		for (let next = pages.next(); !next.done; next = pages.next()) {
			const frames = next.value.codecFrames;
			if (frames.length === 0) continue;
			if (codec !== 'opus') {
				throw new AudioInputError('unsupported_codec', `The Ogg file holds ${codec || 'an unknown codec'}, which is not supported (Ogg Opus is).`);
			}
			if (decoder === null) {
				const header = frames[0].header as OpusHeader;
				decoder = new OpusDecoder({
					channels: header.channels,
					streamCount: header.streamCount,
					coupledStreamCount: header.coupledStreamCount,
					channelMappingTable: header.channelMappingTable,
					preSkip: header.preSkip,
				});
				await decoder.ready;
			}
			const decoded = decoder.decodeFrames(frames.map((f) => f.data));
			errors += decoded.errors.length;
			if (decoded.samplesDecoded > 0) {
				samples += decoded.samplesDecoded;
				yield { sampleRate: decoded.sampleRate, channelData: decoded.channelData };
			}
		}
	};
	try {
		for (let offset = 0; offset < bytes.length; offset += SLICE_BYTES) {
			yield* decode(parser.parseChunk(bytes.subarray(offset, offset + SLICE_BYTES)));
		}
		yield* decode(parser.flush());
		if (samples === 0) {
			throw new AudioInputError(errors > 0 ? 'corrupt' : 'empty', errors > 0 ? `The Ogg Opus file could not be decoded (${errors} damaged packet(s)).` : 'The Ogg file holds no audio.');
		}
	} finally {
		(decoder as OpusDecoder | null)?.free();
	}
}
