/**
 * WAV (RIFF/WAVE) reading: PCM 8/16/24/32-bit, IEEE float 32/64-bit, μ-law and A-law (G.711,
 * decoded by alawmulaw), WAVE_FORMAT_EXTENSIBLE, any sample rate and channel count. The samples
 * are read block by block straight from the file's bytes, so a long file is never held twice.
 */
// eslint-disable-next-line @n8n/community-nodes/no-restricted-imports -- G.711 (μ-law, A-law) is decoded by alawmulaw, not by code of ours
import { alaw, mulaw } from 'alawmulaw';

import { AudioInputError } from './errors';
import type { DecodedBlock, SourceFormat } from './types';

const FORMAT_PCM = 0x0001;
const FORMAT_FLOAT = 0x0003;
const FORMAT_ALAW = 0x0006;
const FORMAT_MULAW = 0x0007;
const FORMAT_EXTENSIBLE = 0xfffe;

const CODEC_NAMES: Record<number, string> = {
	[FORMAT_PCM]: 'pcm',
	[FORMAT_FLOAT]: 'float',
	[FORMAT_ALAW]: 'alaw',
	[FORMAT_MULAW]: 'mulaw',
};

/** Frames per block handed to the resampler. */
const BLOCK_FRAMES = 16384;

export interface WavLayout {
	format: SourceFormat;
	/** Byte offset and length of the sample data. */
	dataOffset: number;
	dataLength: number;
	blockAlign: number;
	formatCode: number;
}

export function isWav(bytes: Uint8Array): boolean {
	return bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WAVE';
}

function ascii(bytes: Uint8Array, offset: number, length: number): string {
	return String.fromCharCode(...bytes.subarray(offset, offset + length));
}

/** Reads the header chunks; throws AudioInputError for what cannot be decoded. */
export function readWavLayout(bytes: Buffer): WavLayout {
	let fmt: { code: number; channels: number; sampleRate: number; blockAlign: number; bits: number } | null = null;
	let offset = 12;
	while (offset + 8 <= bytes.length) {
		const id = ascii(bytes, offset, 4);
		const size = bytes.readUInt32LE(offset + 4);
		const body = offset + 8;
		if (id === 'fmt ') {
			if (size < 16 || body + 16 > bytes.length) throw new AudioInputError('corrupt', 'The WAV file’s format chunk is truncated.');
			let code = bytes.readUInt16LE(body);
			if (code === FORMAT_EXTENSIBLE && size >= 40 && body + 26 <= bytes.length) code = bytes.readUInt16LE(body + 24);
			fmt = {
				code,
				channels: bytes.readUInt16LE(body + 2),
				sampleRate: bytes.readUInt32LE(body + 4),
				blockAlign: bytes.readUInt16LE(body + 12),
				bits: bytes.readUInt16LE(body + 14),
			};
		} else if (id === 'data') {
			if (fmt === null) throw new AudioInputError('corrupt', 'The WAV file has its data before its format chunk.');
			// A file written while recording may state a larger (or 0xFFFFFFFF) size: take what is there.
			const dataLength = Math.min(size, bytes.length - body);
			return { format: checkFormat(fmt), dataOffset: body, dataLength, blockAlign: fmt.blockAlign, formatCode: fmt.code };
		}
		offset = body + size + (size % 2);
	}
	throw new AudioInputError(fmt === null ? 'corrupt' : 'empty', fmt === null ? 'The WAV file has no format chunk.' : 'The WAV file has no data chunk.');
}

function checkFormat(fmt: { code: number; channels: number; sampleRate: number; blockAlign: number; bits: number }): SourceFormat {
	const codec = CODEC_NAMES[fmt.code];
	if (codec === undefined) {
		throw new AudioInputError('unsupported_codec', `The WAV file uses codec 0x${fmt.code.toString(16).padStart(4, '0')}, which is not supported (PCM, float, μ-law and A-law are).`);
	}
	const bitsOk =
		(codec === 'pcm' && [8, 16, 24, 32].includes(fmt.bits)) ||
		(codec === 'float' && [32, 64].includes(fmt.bits)) ||
		((codec === 'alaw' || codec === 'mulaw') && fmt.bits === 8);
	if (!bitsOk) throw new AudioInputError('unsupported_codec', `The WAV file is ${codec} at ${fmt.bits} bits per sample, which is not supported.`);
	if (fmt.channels < 1 || fmt.sampleRate < 1 || fmt.blockAlign !== (fmt.bits / 8) * fmt.channels) {
		throw new AudioInputError('corrupt', 'The WAV file’s format chunk is inconsistent (channels, sample rate or block size).');
	}
	return { container: 'wav', codec, sampleRate: fmt.sampleRate, channels: fmt.channels, bitsPerSample: fmt.bits };
}

function sampleReader(layout: WavLayout, bytes: Buffer): (byteOffset: number) => number {
	const bits = layout.format.bitsPerSample;
	switch (layout.formatCode) {
		case FORMAT_FLOAT:
			return bits === 32 ? (o) => bytes.readFloatLE(o) : (o) => bytes.readDoubleLE(o);
		case FORMAT_MULAW:
			return (o) => mulaw.decodeSample(bytes[o]) / 32768;
		case FORMAT_ALAW:
			return (o) => alaw.decodeSample(bytes[o]) / 32768;
		default:
			if (bits === 8) return (o) => (bytes[o] - 128) / 128;
			if (bits === 16) return (o) => bytes.readInt16LE(o) / 32768;
			if (bits === 24) return (o) => bytes.readIntLE(o, 3) / 8388608;
			return (o) => bytes.readInt32LE(o) / 2147483648;
	}
}

/** The samples as blocks of one Float32Array per channel, in [-1, 1]. */
export function* wavBlocks(bytes: Buffer, layout: WavLayout): Generator<DecodedBlock> {
	const { channels, sampleRate } = layout.format;
	const width = layout.blockAlign / channels;
	const frames = Math.floor(layout.dataLength / layout.blockAlign);
	const read = sampleReader(layout, bytes);
	for (let start = 0; start < frames; start += BLOCK_FRAMES) {
		const count = Math.min(BLOCK_FRAMES, frames - start);
		const channelData = Array.from({ length: channels }, () => new Float32Array(count));
		let offset = layout.dataOffset + start * layout.blockAlign;
		for (let i = 0; i < count; i++) {
			for (let c = 0; c < channels; c++, offset += width) channelData[c][i] = read(offset);
		}
		yield { sampleRate, channelData };
	}
}

export function wavFrameCount(layout: WavLayout): number {
	return Math.floor(layout.dataLength / layout.blockAlign);
}
