/** Bench audio: a long stereo WAV made without sample arrays beside it. */
import { wav } from '../test/audio/signals';

/** A stereo PCM16 WAV written straight into its buffer (no sample arrays beside it). */
export function stereoWav(seconds: number, sampleRate: number): Buffer {
	const frames = Math.round(seconds * sampleRate);
	const file = wav([new Float32Array(1), new Float32Array(1)], sampleRate); // header of a 1-frame file
	const out = Buffer.alloc(44 + frames * 4);
	file.copy(out, 0, 0, 44);
	out.writeUInt32LE(36 + frames * 4, 4);
	out.writeUInt32LE(frames * 4, 40);
	for (let i = 0, o = 44; i < frames; i++, o += 4) {
		// Speech-like: a tone that comes and goes every second on each channel, out of phase.
		const t = i / sampleRate;
		const on = Math.floor(t) % 2 === 0;
		out.writeInt16LE(on ? Math.round(12000 * Math.sin(2 * Math.PI * 220 * t)) : 0, o);
		out.writeInt16LE(on ? 0 : Math.round(12000 * Math.sin(2 * Math.PI * 330 * t)), o + 2);
	}
	return out;
}
