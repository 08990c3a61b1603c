/**
 * Test audio made in code: tone bursts and silences of known lengths, written as WAV files of
 * every supported sample format (the G.711 codes come from alawmulaw, the library the node uses
 * to decode them: a test of our parsing and resampling, not of the codec tables).
 */
import { alaw, mulaw } from 'alawmulaw';

export type WavEncoding = 'pcm8' | 'pcm16' | 'pcm24' | 'pcm32' | 'float32' | 'mulaw' | 'alaw';

export interface Segment {
	/** Seconds of tone (frequency > 0) or silence (frequency 0). */
	seconds: number;
	frequency: number;
	amplitude?: number;
}

/** Samples of a sequence of tones and silences. */
export function synthesize(segments: Segment[], sampleRate: number): Float32Array {
	const total = segments.reduce((n, s) => n + Math.round(s.seconds * sampleRate), 0);
	const out = new Float32Array(total);
	let offset = 0;
	for (const segment of segments) {
		const count = Math.round(segment.seconds * sampleRate);
		const amplitude = segment.amplitude ?? 0.5;
		if (segment.frequency > 0) {
			for (let i = 0; i < count; i++) out[offset + i] = amplitude * Math.sin((2 * Math.PI * segment.frequency * i) / sampleRate);
		}
		offset += count;
	}
	return out;
}

/** Speech-like bursts: `on` seconds of tone after each `off` seconds of silence, `count` times, then `tail` of silence. */
export function bursts(count: number, on: number, off: number, frequency: number, tail = off): Segment[] {
	const segments: Segment[] = [];
	for (let i = 0; i < count; i++) segments.push({ seconds: off, frequency: 0 }, { seconds: on, frequency });
	segments.push({ seconds: tail, frequency: 0 });
	return segments;
}

const FORMAT: Record<WavEncoding, { code: number; bits: number }> = {
	pcm8: { code: 1, bits: 8 },
	pcm16: { code: 1, bits: 16 },
	pcm24: { code: 1, bits: 24 },
	pcm32: { code: 1, bits: 32 },
	float32: { code: 3, bits: 32 },
	mulaw: { code: 7, bits: 8 },
	alaw: { code: 6, bits: 8 },
};

const int16 = (s: number) => Math.max(-32768, Math.min(32767, Math.round(s * 32767)));

/** A WAV file of the given channels (all the same length). */
export function wav(channels: Float32Array[], sampleRate: number, encoding: WavEncoding = 'pcm16'): Buffer {
	const { code, bits } = FORMAT[encoding];
	const width = bits / 8;
	const frames = channels[0].length;
	const dataBytes = frames * channels.length * width;
	const file = Buffer.alloc(44 + dataBytes);
	file.write('RIFF', 0, 'ascii');
	file.writeUInt32LE(36 + dataBytes, 4);
	file.write('WAVE', 8, 'ascii');
	file.write('fmt ', 12, 'ascii');
	file.writeUInt32LE(16, 16);
	file.writeUInt16LE(code, 20);
	file.writeUInt16LE(channels.length, 22);
	file.writeUInt32LE(sampleRate, 24);
	file.writeUInt32LE(sampleRate * channels.length * width, 28);
	file.writeUInt16LE(channels.length * width, 32);
	file.writeUInt16LE(bits, 34);
	file.write('data', 36, 'ascii');
	file.writeUInt32LE(dataBytes, 40);
	let o = 44;
	for (let i = 0; i < frames; i++) {
		for (const channel of channels) {
			const s = channel[i];
			switch (encoding) {
				case 'pcm8':
					file[o] = Math.max(0, Math.min(255, Math.round(s * 127 + 128)));
					break;
				case 'pcm16':
					file.writeInt16LE(int16(s), o);
					break;
				case 'pcm24':
					file.writeIntLE(Math.max(-8388608, Math.min(8388607, Math.round(s * 8388607))), o, 3);
					break;
				case 'pcm32':
					file.writeInt32LE(Math.max(-2147483648, Math.min(2147483647, Math.round(s * 2147483647))), o);
					break;
				case 'float32':
					file.writeFloatLE(s, o);
					break;
				case 'mulaw':
					file[o] = mulaw.encodeSample(int16(s));
					break;
				case 'alaw':
					file[o] = alaw.encodeSample(int16(s));
					break;
			}
			o += width;
		}
	}
	return file;
}

/** Decodes μ-law 8 kHz bytes back to samples in [-1, 1] (to check what the node produced). */
export function fromMulaw(bytes: Uint8Array): Float32Array {
	const pcm = mulaw.decode(bytes);
	return Float32Array.from(pcm, (s) => s / 32768);
}

/** RMS level of a tone at `frequency` in `samples` (Goertzel), relative to full scale. */
export function toneLevel(samples: Float32Array, frequency: number, sampleRate: number): number {
	const k = (2 * Math.PI * frequency) / sampleRate;
	const coeff = 2 * Math.cos(k);
	let s1 = 0;
	let s2 = 0;
	for (const x of samples) {
		const s0 = x + coeff * s1 - s2;
		s2 = s1;
		s1 = s0;
	}
	const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
	return (2 * Math.sqrt(power)) / samples.length;
}
