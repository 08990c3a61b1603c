/**
 * Recording audio, synthesized in code: 8 kHz 16-bit mono PCM WAV (a RIFF file any player opens).
 *
 * The file lasts exactly as long as the call (stream start to end), and each transcript turn is
 * a "speech-like" burst where the call had it: ending when its final arrived, after the previous
 * turn's, at most as long as its words take to say. A burst is a voiced tone with harmonics at
 * the speaker's pitch (agent low, customer higher), falling intonation, one syllable envelope per
 * word and a little breath noise, on its speaker's channel; silence while the other party talks.
 * Deterministic: the same turns and timing always give the same bytes.
 */

export const WAV_SAMPLE_RATE = 8000;
export const WAV_BIT_DEPTH = 16;
const WAV_HEADER_BYTES = 44;
/** Speaking time per word: a turn given more time than its words need starts late (a pause). */
const SECONDS_PER_WORD = 0.4;
/** Silence before a turn: this, or a fifth of the time the turn had when that is shorter. */
const LEAD_SECONDS = 0.15;

export type RecordedChannel = 'agent' | 'customer' | 'mixed';

export interface SpokenTurn {
	speaker: 'agent' | 'customer';
	text: string;
	/** Seconds from the start of the call: the end of the previous turn (or 0). */
	startSeconds: number;
	/** Seconds from the start of the call: when the turn's final arrived. */
	endSeconds: number;
}

/** Samples of a call lasting `durationSeconds` (the same for every channel of one recording). */
export function callSampleCount(durationSeconds: number): number {
	return Math.max(0, Math.round(durationSeconds * WAV_SAMPLE_RATE));
}

/** The file's duration: the call's, to the sample. */
export function wavDurationSeconds(durationSeconds: number): number {
	return callSampleCount(durationSeconds) / WAV_SAMPLE_RATE;
}

export function wavByteLength(durationSeconds: number): number {
	return WAV_HEADER_BYTES + callSampleCount(durationSeconds) * (WAV_BIT_DEPTH / 8);
}

function wordCount(text: string): number {
	return text.split(/\s+/).filter((w) => w !== '').length;
}

/** The samples [from, to) a turn's burst covers in a file of `total` samples. */
export function burstSamples(turn: SpokenTurn, total: number): [number, number] {
	const span = Math.max(0, turn.endSeconds - turn.startSeconds);
	const speaking = Math.max(turn.startSeconds + Math.min(LEAD_SECONDS, span / 5), turn.endSeconds - wordCount(turn.text) * SECONDS_PER_WORD);
	const clamp = (seconds: number): number => Math.min(total, Math.max(0, Math.round(seconds * WAV_SAMPLE_RATE)));
	return [clamp(speaking), clamp(turn.endSeconds)];
}

/** Small deterministic PRNG (mulberry32) seeded from the text, for the breath noise. */
function noiseSource(seedText: string): () => number {
	let seed = 0x9e3779b9;
	for (let i = 0; i < seedText.length; i++) seed = Math.imul(seed ^ seedText.charCodeAt(i), 0x85ebca6b);
	return () => {
		seed = (seed + 0x6d2b79f5) | 0;
		let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
		t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
	};
}

const PITCH_HZ: Record<SpokenTurn['speaker'], number> = { agent: 125, customer: 210 };

/** Adds one turn's burst into `out` (float samples in -1..1). */
function speak(out: Float64Array, turn: SpokenTurn): void {
	const [from, to] = burstSamples(turn, out.length);
	const length = to - from;
	if (length <= 0) return;
	const syllables = Math.max(1, Math.min(12, wordCount(turn.text)));
	const basePitch = PITCH_HZ[turn.speaker];
	const noise = noiseSource(turn.text);
	let phase = 0;
	for (let i = 0; i < length; i++) {
		const progress = i / length;
		// Intonation: starts a little high, falls towards the end of the sentence.
		const pitch = basePitch * (1.12 - 0.22 * progress + 0.03 * Math.sin(2 * Math.PI * 5 * progress));
		phase += (2 * Math.PI * pitch) / WAV_SAMPLE_RATE;
		const voiced = Math.sin(phase) + 0.5 * Math.sin(2 * phase) + 0.3 * Math.sin(3 * phase) + 0.15 * Math.sin(5 * phase);
		// One rounded envelope per syllable, with short dips between them.
		const syllablePhase = (progress * syllables) % 1;
		const syllable = Math.sin(Math.PI * syllablePhase) ** 0.6;
		// Fade in/out over the whole turn so bursts never click.
		const edge = Math.min(1, progress / 0.04, (1 - progress) / 0.04);
		out[from + i] += edge * (0.3 * syllable * voiced + 0.02 * noise());
	}
}

/**
 * The WAV file of one channel of a call lasting `durationSeconds`. `agent` / `customer` hold that
 * party's turns (the other party's time is silence); `mixed` holds both. A call nobody spoke on
 * is room tone.
 */
export function synthesizeRecording(turns: readonly SpokenTurn[], channel: RecordedChannel, durationSeconds: number): Buffer {
	const samples = new Float64Array(callSampleCount(durationSeconds));
	for (const turn of turns) {
		if (channel === 'mixed' || channel === turn.speaker) speak(samples, turn);
	}
	if (turns.length === 0) {
		const noise = noiseSource(channel);
		for (let i = 0; i < samples.length; i++) samples[i] = 0.005 * noise();
	}
	return encodeWav(samples);
}

/** 16-bit little-endian PCM mono WAV with the canonical 44-byte RIFF header. */
export function encodeWav(samples: Float64Array): Buffer {
	const bytesPerSample = WAV_BIT_DEPTH / 8;
	const dataBytes = samples.length * bytesPerSample;
	const wav = Buffer.alloc(WAV_HEADER_BYTES + dataBytes);
	wav.write('RIFF', 0, 'ascii');
	wav.writeUInt32LE(36 + dataBytes, 4);
	wav.write('WAVE', 8, 'ascii');
	wav.write('fmt ', 12, 'ascii');
	wav.writeUInt32LE(16, 16); // fmt chunk size
	wav.writeUInt16LE(1, 20); // PCM
	wav.writeUInt16LE(1, 22); // mono
	wav.writeUInt32LE(WAV_SAMPLE_RATE, 24);
	wav.writeUInt32LE(WAV_SAMPLE_RATE * bytesPerSample, 28); // byte rate
	wav.writeUInt16LE(bytesPerSample, 32); // block align
	wav.writeUInt16LE(WAV_BIT_DEPTH, 34);
	wav.write('data', 36, 'ascii');
	wav.writeUInt32LE(dataBytes, 40);
	for (let i = 0; i < samples.length; i++) {
		const clamped = Math.max(-1, Math.min(1, samples[i]));
		wav.writeInt16LE(Math.round(clamped * 32767), WAV_HEADER_BYTES + i * bytesPerSample);
	}
	return wav;
}
