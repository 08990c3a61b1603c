/**
 * From a file's bytes to what the stream carries: decoded (WAV, MP3, FLAC, Ogg Opus), split into speakers
 * (mono: one chosen speaker; stereo: one speaker per channel, or mixed to one), resampled to
 * 8 kHz through an anti-aliasing filter and encoded to μ-law. Everything is checked here, before
 * any session exists: not audio, unsupported codec, damaged, empty, silent, too long.
 */
// eslint-disable-next-line @n8n/community-nodes/no-restricted-imports -- G.711 μ-law is encoded by alawmulaw, not by code of ours
import { mulaw } from 'alawmulaw';

import { compressedBlocks } from './compressed';
import { AudioInputError } from './errors';
import { oggOpusBlocks } from './ogg';
import { Resampler } from './resample';
import { describeNonAudio, sniffContainer } from './sniff';
import type { DecodedBlock, SourceFormat } from './types';
import { readWavLayout, wavBlocks, wavFrameCount } from './wav';

/** The stream's audio format, as Kallglot's audio.input takes it: μ-law, 8 kHz, mono per speaker. */
export const STREAM_SAMPLE_RATE = 8000;

export const SPEAKERS = ['customer', 'agent'] as const;
export type Speaker = (typeof SPEAKERS)[number];

/** How a stereo file's channels map to speakers. */
export const STEREO_LAYOUTS = ['leftAgentRightCustomer', 'leftCustomerRightAgent', 'mixToOneSpeaker'] as const;
export type StereoLayout = (typeof STEREO_LAYOUTS)[number];

export interface PrepareOptions {
	/** The speaker of a mono file (or of a stereo file mixed to one speaker). */
	monoSpeaker: Speaker;
	stereoLayout: StereoLayout;
	maxDurationSeconds: number;
}

export interface Track {
	speaker: Speaker;
	/** μ-law bytes, 8 kHz: one byte per sample. */
	mulaw: Buffer;
	/** Peak level in dBFS after resampling (−Infinity for digital silence). */
	peakDbfs: number;
}

export interface PreparedAudio {
	source: SourceFormat;
	durationSeconds: number;
	/** One or two tracks of the same length. */
	tracks: Track[];
}

/** Below this peak a file holds nothing worth translating (−50 dBFS). */
const SILENCE_PEAK = 10 ** (-50 / 20);

interface TrackPlan {
	speaker: Speaker;
	/** Input channels averaged into this track. */
	channels: number[];
}

function planTracks(channels: number, options: PrepareOptions): TrackPlan[] {
	if (channels === 1) return [{ speaker: options.monoSpeaker, channels: [0] }];
	if (channels === 2) {
		switch (options.stereoLayout) {
			case 'leftAgentRightCustomer':
				return [
					{ speaker: 'agent', channels: [0] },
					{ speaker: 'customer', channels: [1] },
				];
			case 'leftCustomerRightAgent':
				return [
					{ speaker: 'customer', channels: [0] },
					{ speaker: 'agent', channels: [1] },
				];
			case 'mixToOneSpeaker':
				return [{ speaker: options.monoSpeaker, channels: [0, 1] }];
		}
	}
	throw new AudioInputError('too_many_channels', `The file has ${channels} channels; Translate Audio takes mono (one speaker) or stereo (two speakers).`);
}

/** Growable byte output, so a compressed file of unknown length is not buffered twice. */
class ByteSink {
	private buffer: Buffer;
	length = 0;
	constructor(capacity: number) {
		this.buffer = Buffer.allocUnsafe(Math.max(1024, capacity));
	}
	write(bytes: Uint8Array): void {
		if (this.length + bytes.length > this.buffer.length) {
			const grown = Buffer.allocUnsafe(Math.max(this.length + bytes.length, this.buffer.length * 2));
			this.buffer.copy(grown, 0, 0, this.length);
			this.buffer = grown;
		}
		this.buffer.set(bytes, this.length);
		this.length += bytes.length;
	}
	bytes(): Buffer {
		return this.buffer.subarray(0, this.length);
	}
}

class TrackEncoder {
	private readonly resampler: Resampler;
	private readonly sink: ByteSink;
	private peak = 0;

	constructor(
		readonly plan: TrackPlan,
		sampleRate: number,
		expectedFrames: number,
	) {
		this.resampler = new Resampler(sampleRate, STREAM_SAMPLE_RATE);
		this.sink = new ByteSink(Math.ceil((expectedFrames * STREAM_SAMPLE_RATE) / sampleRate) + 16);
	}

	push(block: DecodedBlock): void {
		const { channels } = this.plan;
		let input = block.channelData[channels[0]];
		if (channels.length > 1) {
			input = new Float32Array(input.length);
			for (const c of channels) {
				const data = block.channelData[c];
				for (let i = 0; i < input.length; i++) input[i] += data[i] / channels.length;
			}
		}
		this.encode(this.resampler.push(input));
	}

	finish(): Track {
		this.encode(this.resampler.flush());
		return { speaker: this.plan.speaker, mulaw: this.sink.bytes(), peakDbfs: 20 * Math.log10(this.peak) };
	}

	private encode(samples: Float32Array): void {
		if (samples.length === 0) return;
		const pcm = new Int16Array(samples.length);
		let peak = this.peak;
		for (let i = 0; i < samples.length; i++) {
			const s = samples[i];
			const a = s < 0 ? -s : s;
			if (a > peak) peak = a;
			pcm[i] = s >= 1 ? 32767 : s <= -1 ? -32768 : Math.round(s * 32767);
		}
		this.peak = Math.min(1, peak);
		this.sink.write(mulaw.encode(pcm));
	}
}

function tooLong(seconds: number, max: number): AudioInputError {
	return new AudioInputError('too_long', `The audio lasts ${formatSeconds(seconds)}, longer than Max Duration (${formatSeconds(max)}).`);
}

export function formatSeconds(seconds: number): string {
	const s = Math.round(seconds);
	return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${Math.round(seconds * 10) / 10} s`;
}

/** Decodes, checks and converts the file. Throws AudioInputError for anything it cannot use. */
export async function prepareAudio(bytes: Buffer, options: PrepareOptions): Promise<PreparedAudio> {
	const container = sniffContainer(bytes);
	let blocks: Iterable<DecodedBlock> | AsyncIterable<DecodedBlock>;
	let source: SourceFormat | null = null;
	let expectedFrames = 0;
	switch (container) {
		case 'wav': {
			const layout = readWavLayout(bytes);
			source = layout.format;
			expectedFrames = wavFrameCount(layout);
			if (expectedFrames / source.sampleRate > options.maxDurationSeconds) {
				throw tooLong(expectedFrames / source.sampleRate, options.maxDurationSeconds);
			}
			blocks = wavBlocks(bytes, layout);
			break;
		}
		case 'mp3':
		case 'flac':
			blocks = compressedBlocks(bytes, container);
			break;
		case 'ogg':
			blocks = oggOpusBlocks(bytes);
			break;
		default: {
			const what = describeNonAudio(bytes);
			const unsupported = what.startsWith('an MP4');
			throw new AudioInputError(unsupported ? 'unsupported_codec' : 'not_audio', unsupported ? `The file is ${what} (AAC), which is not supported.` : `The file is ${what}, not audio.`);
		}
	}

	let encoders: TrackEncoder[] | null = null;
	let frames = 0;
	for await (const block of blocks) {
		if (encoders === null) {
			source ??= {
				container: container as SourceFormat['container'],
				codec: container === 'ogg' ? 'opus' : container,
				sampleRate: block.sampleRate,
				channels: block.channelData.length,
				bitsPerSample: null,
			};
			encoders = planTracks(source.channels, options).map((plan) => new TrackEncoder(plan, block.sampleRate, expectedFrames));
		} else if (block.sampleRate !== source!.sampleRate || block.channelData.length !== source!.channels) {
			throw new AudioInputError('unsupported_codec', 'The file changes its sample rate or channel count midway, which is not supported.');
		}
		const length = block.channelData[0]?.length ?? 0;
		frames += length;
		if (frames / block.sampleRate > options.maxDurationSeconds) throw tooLong(frames / block.sampleRate, options.maxDurationSeconds);
		for (const encoder of encoders) encoder.push(block);
	}
	if (encoders === null || source === null || frames === 0) {
		throw new AudioInputError('empty', 'The file holds no audio samples.');
	}
	const tracks = encoders.map((e) => e.finish());
	if (tracks.every((t) => !(t.peakDbfs >= 20 * Math.log10(SILENCE_PEAK)))) {
		throw new AudioInputError('silent', `The file is silent (its loudest sample is ${formatPeak(tracks)}).`);
	}
	return { source, durationSeconds: frames / source.sampleRate, tracks };
}

function formatPeak(tracks: Track[]): string {
	const peak = Math.max(...tracks.map((t) => t.peakDbfs));
	return Number.isFinite(peak) ? `${Math.round(peak)} dBFS` : 'digital silence';
}
