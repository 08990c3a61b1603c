/**
 * The scripted bilingual call: a Spanish-speaking customer (Party A, `es`) rescheduling a dental
 * appointment with an English-speaking agent (Party B, `en`). Each utterance streams as 1–2
 * `transcript.partial` frames and one `transcript.final` carrying the translation.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FinalsOptions, PlayOptions, SandboxSession, ScriptFrame, Speaker, Translation, TranslationShape } from './types';

export interface ScriptUtterance {
	speaker: Speaker;
	language: 'es' | 'en';
	text: string;
	translation: Translation;
}

export const BILINGUAL_CALL: readonly ScriptUtterance[] = [
	{
		speaker: 'customer',
		language: 'es',
		text: 'Hola, buenos días. Llamo para cambiar mi cita del jueves.',
		translation: { language: 'en', text: "Hello, good morning. I'm calling to change my Thursday appointment." },
	},
	{
		speaker: 'agent',
		language: 'en',
		text: 'Of course. Could you give me your full name and date of birth, please?',
		translation: { language: 'es', text: 'Por supuesto. ¿Podría darme su nombre completo y su fecha de nacimiento, por favor?' },
	},
	{
		speaker: 'customer',
		language: 'es',
		text: 'Me llamo Lucía Fernández y nací el doce de marzo de 1988.',
		translation: { language: 'en', text: 'My name is Lucía Fernández and I was born on March twelfth, 1988.' },
	},
	{
		speaker: 'agent',
		language: 'en',
		text: 'Thank you, Lucía. I see your cleaning on Thursday at ten. What day works better for you?',
		translation: { language: 'es', text: 'Gracias, Lucía. Veo su limpieza el jueves a las diez. ¿Qué día le viene mejor?' },
	},
	{
		speaker: 'customer',
		language: 'es',
		text: '¿Tienen algo el lunes por la tarde, después de las cuatro?',
		translation: { language: 'en', text: 'Do you have anything on Monday afternoon, after four?' },
	},
	{
		speaker: 'agent',
		language: 'en',
		text: 'Yes, Monday at four thirty is open. Shall I book it for you?',
		translation: { language: 'es', text: 'Sí, el lunes a las cuatro y media está libre. ¿Se la reservo?' },
	},
	{
		speaker: 'customer',
		language: 'es',
		text: 'Sí, perfecto. Muchas gracias por su ayuda.',
		translation: { language: 'en', text: 'Yes, perfect. Thank you very much for your help.' },
	},
	{
		speaker: 'agent',
		language: 'en',
		text: "You're all set for Monday at four thirty. Have a great day!",
		translation: { language: 'es', text: 'Ya tiene su cita el lunes a las cuatro y media. ¡Que tenga un buen día!' },
	},
];

/** Growing prefixes of the final text: two partials for longer utterances, one for short ones. */
export function partialTexts(text: string): string[] {
	const words = text.split(' ');
	const cuts = words.length >= 8 ? [Math.ceil(words.length * 0.4), Math.ceil(words.length * 0.75)] : [Math.ceil(words.length / 2)];
	return cuts.map((n) => words.slice(0, n).join(' '));
}

/** 'mixed' alternates object / string translations, starting with an object. */
export function translationShapeAt(shape: TranslationShape, utteranceIndex: number): 'object' | 'string' {
	if (shape === 'mixed') return utteranceIndex % 2 === 0 ? 'object' : 'string';
	return shape;
}

export function partialFrame(utterance: ScriptUtterance, sequence: number, text: string): ScriptFrame {
	return { type: 'transcript.partial', speaker: utterance.speaker, language: utterance.language, text, sequence };
}

export function finalFrame(
	utterance: ScriptUtterance,
	sequence: number,
	shape: 'object' | 'string',
	timestamp: string,
): ScriptFrame {
	return {
		type: 'transcript.final',
		speaker: utterance.speaker,
		language: utterance.language,
		text: utterance.text,
		sequence,
		timestamp,
		translation: shape === 'object' ? { ...utterance.translation } : utterance.translation.text,
	};
}

/**
 * The frames `play` sends, in order, without the finals' `timestamp` (set at send time):
 * what a test compares the received frames against.
 */
export function expectedCallFrames(shape: TranslationShape = 'object', firstSequence = 1): ScriptFrame[] {
	return BILINGUAL_CALL.flatMap((utterance, index) => {
		const sequence = firstSequence + index;
		const { timestamp: _timestamp, ...final } = finalFrame(utterance, sequence, translationShapeAt(shape, index), '');
		return [...partialTexts(utterance.text).map((text) => partialFrame(utterance, sequence, text)), final as ScriptFrame];
	});
}

/** What the player needs from the sandbox. */
export interface CallStage {
	readonly signal: AbortSignal;
	hasListener(sessionId: string): boolean;
	waitForListener(sessionId: string, signal: AbortSignal): Promise<void>;
	/** Sends to every open socket; returns how many were open. */
	broadcast(sessionId: string, frame: ScriptFrame): number;
	endSession(sessionId: string, reason: string): void;
}

/**
 * Plays the call on `session`. Resolves when done, when the session ends, or when the sandbox
 * closes. With `waitForListener`, playback pauses while no socket is open, so a drop followed by a
 * reconnect loses nothing (deterministic tests).
 */
export async function playBilingualCall(stage: CallStage, session: SandboxSession, options: PlayOptions = {}): Promise<void> {
	const { intervalMs = 40, translationShape = 'object', endWhenDone = false, waitForListener = true } = options;

	/** Waits one beat (and for a listener); false when playback must stop. */
	const ready = async (): Promise<boolean> => {
		try {
			await sleep(intervalMs, undefined, { signal: stage.signal });
			while (waitForListener && session.status !== 'ended' && !stage.hasListener(session.id)) {
				await stage.waitForListener(session.id, stage.signal);
			}
		} catch {
			return false; // the sandbox is closing
		}
		return session.status !== 'ended';
	};

	const deliver = (frame: ScriptFrame): void => {
		if (stage.broadcast(session.id, frame) > 0) session.sentScriptFrames.push(frame);
	};

	for (const [index, utterance] of BILINGUAL_CALL.entries()) {
		const sequence = session.nextSequence++;
		for (const text of partialTexts(utterance.text)) {
			if (!(await ready())) return;
			deliver(partialFrame(utterance, sequence, text));
		}
		if (!(await ready())) return;
		const timestamp = new Date().toISOString();
		session.transcript.push({
			sequence,
			speaker: utterance.speaker,
			language: utterance.language,
			text: utterance.text,
			translation: { ...utterance.translation },
			timestamp,
		});
		deliver(finalFrame(utterance, sequence, translationShapeAt(translationShape, index), timestamp));
	}
	if (endWhenDone && session.status !== 'ended') stage.endSession(session.id, 'call_completed');
}

/**
 * Delivers `count` finals (no partials), paced by `intervalMs` or all at once: the burst a stream
 * flushes after a gap. With `waitForListener`, nothing is sent while no socket is open, and the
 * finals due meanwhile go out together once one is.
 */
export async function playFinals(stage: CallStage, session: SandboxSession, options: FinalsOptions): Promise<void> {
	const { count, intervalMs = 0, waitForListener = true, endWhenDone = false } = options;
	for (let index = 0; index < count; index++) {
		try {
			if (intervalMs > 0) await sleep(intervalMs, undefined, { signal: stage.signal });
			while (waitForListener && session.status !== 'ended' && !stage.hasListener(session.id)) {
				await stage.waitForListener(session.id, stage.signal);
			}
		} catch {
			return; // the sandbox is closing
		}
		if (session.status === 'ended') return;
		const utterance = BILINGUAL_CALL[index % BILINGUAL_CALL.length];
		const sequence = session.nextSequence++;
		const timestamp = new Date().toISOString();
		session.transcript.push({ sequence, speaker: utterance.speaker, language: utterance.language, text: utterance.text, translation: { ...utterance.translation }, timestamp });
		const frame = finalFrame(utterance, sequence, 'object', timestamp);
		if (stage.broadcast(session.id, frame) > 0) session.sentScriptFrames.push(frame);
	}
	if (endWhenDone && session.status !== 'ended') stage.endSession(session.id, 'call_completed');
}
