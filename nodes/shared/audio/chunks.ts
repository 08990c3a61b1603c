/**
 * The prepared audio as stream chunks: time slots of CHUNK_MS, one chunk per speaker in each slot
 * (a stereo file's two speakers side by side, with the same timestamp). The last slot is padded
 * with μ-law silence up to the contract's 100 ms minimum.
 */
import { STREAM_AUDIO, type AudioInputChunk } from '../wire';
import type { PreparedAudio } from './prepare';

export const CHUNK_MS = STREAM_AUDIO.maxChunkMs;
const SAMPLES_PER_MS = STREAM_AUDIO.sampleRateHz / 1000;
/** μ-law code of a zero sample. */
const MULAW_SILENCE = 0xff;

export function slotCount(audio: PreparedAudio): number {
	const samples = audio.tracks[0]?.mulaw.length ?? 0;
	return Math.ceil(samples / (CHUNK_MS * SAMPLES_PER_MS));
}

/** The chunks of slot `slot`, in track order; sequences count chunks from 1 across speakers. */
export function slotChunks(audio: PreparedAudio, slot: number): AudioInputChunk[] {
	const size = CHUNK_MS * SAMPLES_PER_MS;
	const minimum = STREAM_AUDIO.minChunkMs * SAMPLES_PER_MS;
	return audio.tracks.map((track, index) => {
		let payload: Uint8Array = track.mulaw.subarray(slot * size, (slot + 1) * size);
		if (payload.length < minimum) {
			const padded = Buffer.alloc(minimum, MULAW_SILENCE);
			padded.set(payload);
			payload = padded;
		}
		return {
			sequence: slot * audio.tracks.length + index + 1,
			timestampMs: slot * CHUNK_MS,
			speaker: track.speaker,
			payload,
		};
	});
}
