/**
 * Translate Audio's items: Kallglot's turns (REST transcript, or the stream's finals) in spoken
 * order, each with its offset in the audio, and a readable rendering. Plain data in and out.
 */
import type { IDataObject } from 'n8n-workflow';

import type { HeardTurn } from '../../../shared/audio/upload';
import type { Translation } from '../../../shared/wire';

export interface OutputTurn {
	speaker: string;
	language: string | null;
	text: string;
	translation: Translation | null;
	/** Seconds from the start of the audio; null when Kallglot gave no usable timestamp. */
	offsetSeconds: number | null;
}

export interface TranslatedAudio {
	sessionId: string;
	durationSeconds: number;
	languages: string[];
	turns: OutputTurn[];
	text: string;
	/** Where the turns come from: Kallglot's transcript of the ended session, or the stream's finals. */
	turnsFrom: 'transcript' | 'stream';
	/** The Idempotency Key repeated an earlier run: its session (ended) and transcript, nothing streamed or billed again. */
	replayed: boolean;
	audio: { container: string; codec: string; sampleRate: number; channels: number; speakers: string[] };
	stream: { reconnects: number; unheardSeconds: number; quietPeriodBounded: boolean };
}

/**
 * [ours] A turn's `timestamp` minus the session's `started_at` is its offset in the audio: the
 * stream starts with the audio, and Kallglot times turns from it.
 */
export function offsetOf(timestamp: string | null, startedAt: string | null): number | null {
	if (!timestamp || !startedAt) return null;
	const offset = (Date.parse(timestamp) - Date.parse(startedAt)) / 1000;
	return Number.isFinite(offset) ? Math.max(0, Math.round(offset * 100) / 100) : null;
}

/** Turns in spoken order: by offset, then by Kallglot's sequence. */
export function toOutputTurns(turns: HeardTurn[], startedAt: string | null): OutputTurn[] {
	return turns
		.map((turn, index) => ({ turn, index, offset: offsetOf(turn.timestamp, startedAt) }))
		.sort((a, b) => (a.offset ?? Infinity) - (b.offset ?? Infinity) || (a.turn.sequence ?? a.index) - (b.turn.sequence ?? b.index))
		.map(({ turn, offset }) => ({
			speaker: turn.speaker,
			language: turn.language,
			text: turn.text,
			translation: turn.translation,
			offsetSeconds: offset,
		}));
}

function clock(seconds: number | null): string {
	if (seconds === null) return '--:--';
	const s = Math.floor(seconds);
	return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

const capitalized = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

/** One line per turn: `[00:03] Customer (es): Hola… → (en) Hello…`. */
export function renderText(turns: OutputTurn[]): string {
	return turns
		.map((t) => {
			const said = `[${clock(t.offsetSeconds)}] ${capitalized(t.speaker)}${t.language ? ` (${t.language})` : ''}: ${t.text}`;
			return t.translation ? `${said} → ${t.translation.language ? `(${t.translation.language}) ` : ''}${t.translation.text}` : said;
		})
		.join('\n');
}

export function languagesOf(turns: OutputTurn[], detected: string[] | null | undefined): string[] {
	const found = new Set<string>(detected ?? []);
	for (const t of turns) {
		if (t.language) found.add(t.language);
		if (t.translation?.language) found.add(t.translation.language);
	}
	return [...found];
}

/** One item per input, or (per turn) one item per turn carrying the session's id. */
export function outputJson(result: TranslatedAudio, perTurn: boolean): IDataObject[] {
	if (!perTurn) return [result as unknown as IDataObject];
	return result.turns.map((turn, index) => ({
		sessionId: result.sessionId,
		turnIndex: index,
		...turn,
	})) as unknown as IDataObject[];
}
