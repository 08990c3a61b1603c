/**
 * The sandbox listens to audio.input: per speaker, speech is found from the audio's
 * energy (20 ms windows above −40 dBFS; a segment ends after 400 ms below), and each spoken segment
 * becomes one transcript.partial (when it starts) and one transcript.final (when it ends) with a
 * deterministic text and translation. A final's `timestamp` is the session's start plus the
 * segment's offset in the audio (`timestamp_ms`), so turns are timed to the audio, not to arrival.
 * It also records how fast audio arrived compared with real time.
 */
import { mulaw } from 'alawmulaw';
import { BILINGUAL_CALL } from './script';
import type { SandboxSession, ScriptFrame, Speaker, TranscriptTurn } from './types';

const SAMPLE_RATE = 8000;
const WINDOW_MS = 20;
const WINDOW_SAMPLES = (SAMPLE_RATE * WINDOW_MS) / 1000;
/** −40 dBFS RMS. */
const SPEECH_RMS = 0.01 * 32768;
const HANGOVER_MS = 400;
/** Shorter bursts are clicks, not speech. */
const MIN_SEGMENT_MS = 100;

export interface AudioChunkIn {
	sequence: number;
	timestampMs: number;
	speaker: Speaker;
	payload: Buffer;
}

export interface AudioIntake {
	chunks: number;
	/** Chunks per speaker. */
	speakers: Partial<Record<Speaker, number>>;
	/** Audio offsets covered: from the first chunk's timestamp_ms to the end of the last chunk. */
	audioSeconds: number;
	/** Wall time from the first chunk's arrival to the last chunk's arrival. */
	arrivalSeconds: number;
	/**
	 * Audio seconds per wall second between the first and the last chunk's arrival (1 = real
	 * time, 2 = twice as fast); null before two distinct slots arrived.
	 */
	realtimeRatio: number | null;
	/** Sequences out of order or repeated (a client that resent or reordered). */
	outOfOrder: number;
}

interface SpeakerState {
	inSpeech: boolean;
	startMs: number;
	lastVoiceMs: number;
	/** Where the next window starts (audio ms); windows are cut from each chunk. */
	segments: number;
}

export interface ListenerStage {
	/** Sends a frame to the session's open sockets (and, for a final, after the turn was recorded). */
	broadcast(frame: ScriptFrame): void;
	now(): number;
}

export class AudioListener {
	private readonly states = new Map<Speaker, SpeakerState>();
	private firstArrival: number | null = null;
	private lastArrival = 0;
	private firstOffsetMs = Infinity;
	private lastSlotStartMs = -Infinity;
	private lastEndMs = 0;
	private chunks = 0;
	private lastSequence = 0;
	private outOfOrder = 0;
	private readonly perSpeaker: Partial<Record<Speaker, number>> = {};

	constructor(
		private readonly session: SandboxSession,
		private readonly stage: ListenerStage,
	) {}

	accept(chunk: AudioChunkIn): void {
		const now = this.stage.now();
		this.firstArrival ??= now;
		if (chunk.timestampMs > this.lastSlotStartMs) {
			this.lastSlotStartMs = chunk.timestampMs;
			this.lastArrival = now;
		}
		this.firstOffsetMs = Math.min(this.firstOffsetMs, chunk.timestampMs);
		this.chunks++;
		this.perSpeaker[chunk.speaker] = (this.perSpeaker[chunk.speaker] ?? 0) + 1;
		if (chunk.sequence <= this.lastSequence) this.outOfOrder++;
		this.lastSequence = Math.max(this.lastSequence, chunk.sequence);

		const pcm = mulaw.decode(chunk.payload);
		const durationMs = (pcm.length / SAMPLE_RATE) * 1000;
		this.lastEndMs = Math.max(this.lastEndMs, chunk.timestampMs + durationMs);
		const state = this.stateOf(chunk.speaker);
		for (let start = 0; start < pcm.length; start += WINDOW_SAMPLES) {
			const end = Math.min(pcm.length, start + WINDOW_SAMPLES);
			let sum = 0;
			for (let i = start; i < end; i++) sum += pcm[i] * pcm[i];
			const rms = Math.sqrt(sum / (end - start));
			const atMs = chunk.timestampMs + (start / SAMPLE_RATE) * 1000;
			const windowEndMs = chunk.timestampMs + (end / SAMPLE_RATE) * 1000;
			if (rms >= SPEECH_RMS) {
				if (!state.inSpeech) {
					state.inSpeech = true;
					state.startMs = atMs;
					this.stage.broadcast(this.partial(chunk.speaker, state));
				}
				state.lastVoiceMs = windowEndMs;
			} else if (state.inSpeech && windowEndMs - state.lastVoiceMs >= HANGOVER_MS) {
				this.finish(chunk.speaker, state);
			}
		}
	}

	/** Ends every open segment (the session is ending: Kallglot finalizes the transcript). */
	flush(): void {
		for (const [speaker, state] of this.states) if (state.inSpeech) this.finish(speaker, state);
	}

	intake(): AudioIntake {
		const arrivalSeconds = this.firstArrival === null ? 0 : (this.lastArrival - this.firstArrival) / 1000;
		const slotSeconds = Number.isFinite(this.firstOffsetMs) ? (this.lastSlotStartMs - this.firstOffsetMs) / 1000 : 0;
		return {
			chunks: this.chunks,
			speakers: { ...this.perSpeaker },
			audioSeconds: Number.isFinite(this.firstOffsetMs) ? (this.lastEndMs - this.firstOffsetMs) / 1000 : 0,
			arrivalSeconds,
			realtimeRatio: arrivalSeconds > 0 ? slotSeconds / arrivalSeconds : null,
			outOfOrder: this.outOfOrder,
		};
	}

	private stateOf(speaker: Speaker): SpeakerState {
		let state = this.states.get(speaker);
		if (state === undefined) {
			state = { inSpeech: false, startMs: 0, lastVoiceMs: 0, segments: 0 };
			this.states.set(speaker, state);
		}
		return state;
	}

	private languages(speaker: Speaker): { spoken: string; other: string } {
		const a = this.session.sourceLanguage ?? 'es';
		const b = this.session.targetLanguage ?? 'en';
		return speaker === 'customer' ? { spoken: a, other: b } : { spoken: b, other: a };
	}

	/** The deterministic words of a speaker's n-th segment: the scripted call's lines of that speaker, cycled. */
	private words(speaker: Speaker, index: number): { text: string; translation: string } {
		const lines = BILINGUAL_CALL.filter((u) => u.speaker === speaker);
		const line = lines[index % lines.length];
		return { text: line.text, translation: line.translation.text };
	}

	private partial(speaker: Speaker, state: SpeakerState): ScriptFrame {
		const { spoken } = this.languages(speaker);
		const { text } = this.words(speaker, state.segments);
		return { type: 'transcript.partial', speaker, language: spoken, text: text.split(' ')[0], sequence: this.session.nextSequence };
	}

	private finish(speaker: Speaker, state: SpeakerState): void {
		state.inSpeech = false;
		if (state.lastVoiceMs - state.startMs < MIN_SEGMENT_MS) return;
		const { spoken, other } = this.languages(speaker);
		const { text, translation } = this.words(speaker, state.segments++);
		const sequence = this.session.nextSequence++;
		const origin = this.session.startedAt?.getTime() ?? this.stage.now();
		const timestamp = new Date(origin + Math.round(state.startMs)).toISOString();
		const turn: TranscriptTurn = { sequence, speaker, language: spoken, text, translation: { language: other, text: translation }, timestamp };
		this.session.transcript.push(turn);
		this.stage.broadcast({
			type: 'transcript.final',
			speaker,
			language: spoken,
			text,
			sequence,
			timestamp,
			translation: { language: other, text: translation },
		});
	}
}
