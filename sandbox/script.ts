/**
 * The calls the sandbox plays, and the player. Which call a session plays is decided once, by
 * callScriptFor(session):
 * - a dialled `ai_agent` session plays an outbound campaign call: the AI agent ("Ava" of
 *   Brightsmile Dental) calls the contact about a check-up; the dialled number's last digit
 *   decides the outcome (0/3/6/9 booked, 1/4/7 call back later, 2/5/8 not interested) and the
 *   session's `metadata.contact_name` is whom the agent asks for;
 * - every other session plays the bilingual call: a Spanish-speaking customer (Party A, `es`)
 *   rescheduling a dental appointment with an English-speaking agent (Party B, `en`).
 * Each utterance streams as 1–2 `transcript.partial` frames and one `transcript.final`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FinalsOptions, PlayOptions, SandboxSession, ScriptFrame, Speaker, Translation, TranslationShape } from './types';

export interface ScriptUtterance {
	speaker: Speaker;
	language: string;
	text: string;
	/** Absent when both parties speak one language (the outbound calls). */
	translation?: Translation;
}

export interface TranslatedUtterance extends ScriptUtterance {
	translation: Translation;
}

/** What an outbound campaign call achieved. */
export const OUTBOUND_OUTCOMES = ['booked', 'call_back_later', 'not_interested'] as const;
export type OutboundOutcome = (typeof OUTBOUND_OUTCOMES)[number];

/** One conversation, and what an analysis summary says about it when it was played in full. */
export interface CallScript {
	kind: 'inbound_reschedule' | OutboundOutcome;
	direction: 'inbound' | 'outbound';
	utterances: readonly ScriptUtterance[];
	summary: string;
}

/** The session metadata key naming the contact an outbound call asks for [ours: a sandbox convention]. */
export const CONTACT_NAME_METADATA_KEY = 'contact_name';

export const BILINGUAL_CALL: readonly TranslatedUtterance[] = [
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

const BILINGUAL_RESCHEDULE: CallScript = {
	kind: 'inbound_reschedule',
	direction: 'inbound',
	utterances: BILINGUAL_CALL,
	summary:
		'The customer, Lucía Fernández, called to move her Thursday 10:00 cleaning appointment. ' +
		'After checking her name and date of birth, the agent rebooked it for Monday at 4:30 pm; ' +
		'the customer confirmed and thanked the agent.',
};

const customer = (text: string): ScriptUtterance => ({ speaker: 'customer', language: 'en', text });
const agent = (text: string): ScriptUtterance => ({ speaker: 'agent', language: 'en', text });

/** The outbound call with `outcome`, the agent asking for `contact` (a first name) when known. */
export function outboundCall(outcome: OutboundOutcome, contact: string | null): CallScript {
	const opening = [
		customer('Hello?'),
		agent(`Hi, this is Ava, the virtual assistant of Brightsmile Dental. Am I speaking with ${contact ?? 'the account holder'}?`),
	];
	const who = contact ?? 'The contact';
	switch (outcome) {
		case 'booked':
			return {
				kind: outcome,
				direction: 'outbound',
				utterances: [
					...opening,
					customer('Yes, speaking.'),
					agent('You are due for your six-month check-up. Would you like me to book it for you?'),
					customer('Yes, that would be great. Do you have anything on Tuesday morning?'),
					agent('Tuesday at nine thirty is free. Shall I book it?'),
					customer('Perfect, thank you.'),
					agent("You're booked for Tuesday at nine thirty. You'll get a text reminder the day before. Have a great day!"),
				],
				summary: `Booked: ${who} accepted the six-month check-up and is booked for Tuesday at 9:30 am; a text reminder goes out the day before.`,
			};
		case 'call_back_later':
			return {
				kind: outcome,
				direction: 'outbound',
				utterances: [
					...opening,
					customer("Yes, but I'm driving right now. Can you call me back later?"),
					agent('Of course. When is a better time to reach you?'),
					customer('Tomorrow afternoon, after five.'),
					agent("Noted. I'll call you back tomorrow after five about your six-month check-up."),
					customer('Okay, bye.'),
					agent('Talk to you tomorrow. Drive safely!'),
				],
				summary: `Call back later: ${who} was driving and asked to be called back; the agent will call again tomorrow after 5 pm about the six-month check-up.`,
			};
		case 'not_interested':
			return {
				kind: outcome,
				direction: 'outbound',
				utterances: [
					...opening,
					customer('Yes. What is this about?'),
					agent('You are due for your six-month check-up, and I can book it for you right now.'),
					customer("No, I'm not interested. I moved to another dentist last year. Please remove me from your list."),
					agent("I understand, and I'm sorry for the trouble. I'll remove your number from our reminder list."),
					customer('Fine. Goodbye.'),
					agent('Goodbye, and take care.'),
				],
				summary: `Not interested: ${who} has moved to another dentist and asked to be removed from the reminder list; the agent apologised and removed the number.`,
			};
	}
}

/** The outcome a dialled number gets: its last digit modulo 3 (0/3/6/9, 1/4/7, 2/5/8). */
export function outboundOutcomeFor(dialledNumber: string): OutboundOutcome {
	const lastDigit = /(\d)\D*$/.exec(dialledNumber)?.[1] ?? '0';
	return OUTBOUND_OUTCOMES[Number(lastDigit) % OUTBOUND_OUTCOMES.length];
}

/** The first word of `metadata.contact_name`, or null when there is none. */
function contactFirstName(metadata: SandboxSession['metadata']): string | null {
	const name = metadata?.[CONTACT_NAME_METADATA_KEY];
	if (typeof name !== 'string') return null;
	const first = name.trim().split(/\s+/)[0];
	return first === '' ? null : first;
}

/** The call `session` plays (see the file comment): the same session always gets the same call. */
export function callScriptFor(session: Pick<SandboxSession, 'mode' | 'call' | 'metadata'>): CallScript {
	if (session.mode === 'ai_agent' && session.call !== null) {
		return outboundCall(outboundOutcomeFor(session.call.to), contactFirstName(session.metadata));
	}
	return BILINGUAL_RESCHEDULE;
}

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
		...(utterance.translation === undefined ? {} : { translation: shape === 'object' ? { ...utterance.translation } : utterance.translation.text }),
	};
}

/**
 * The frames `play` sends, in order, without the finals' `timestamp` (set at send time):
 * what a test compares the received frames against. Default: the bilingual call.
 */
export function expectedCallFrames(
	shape: TranslationShape = 'object',
	firstSequence = 1,
	utterances: readonly ScriptUtterance[] = BILINGUAL_CALL,
): ScriptFrame[] {
	return utterances.flatMap((utterance, index) => {
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

/** A transcript turn of `utterance`, finished at `timestamp`. */
function transcriptTurn(utterance: ScriptUtterance, sequence: number, timestamp: string): SandboxSession['transcript'][number] {
	return {
		sequence,
		speaker: utterance.speaker,
		language: utterance.language,
		text: utterance.text,
		...(utterance.translation === undefined ? {} : { translation: { ...utterance.translation } }),
		timestamp,
	};
}

/**
 * Plays the session's call (callScriptFor). Resolves when done, when the session ends, or when the sandbox
 * closes. With `waitForListener`, playback pauses while no socket is open, so a drop followed by a
 * reconnect loses nothing (deterministic tests).
 */
export async function playCall(stage: CallStage, session: SandboxSession, options: PlayOptions = {}): Promise<void> {
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

	for (const [index, utterance] of callScriptFor(session).utterances.entries()) {
		const sequence = session.nextSequence++;
		for (const text of partialTexts(utterance.text)) {
			if (!(await ready())) return;
			deliver(partialFrame(utterance, sequence, text));
		}
		if (!(await ready())) return;
		const timestamp = new Date().toISOString();
		session.transcript.push(transcriptTurn(utterance, sequence, timestamp));
		deliver(finalFrame(utterance, sequence, translationShapeAt(translationShape, index), timestamp));
	}
	if (endWhenDone && session.status !== 'ended') stage.endSession(session.id, 'call_completed');
}

/**
 * Delivers `count` finals of the session's call (no partials, cycled), paced by `intervalMs` or all at once: the burst a stream
 * flushes after a gap. With `waitForListener`, nothing is sent while no socket is open, and the
 * finals due meanwhile go out together once one is.
 */
export async function playFinals(stage: CallStage, session: SandboxSession, options: FinalsOptions): Promise<void> {
	const { count, intervalMs = 0, waitForListener = true, endWhenDone = false } = options;
	const { utterances } = callScriptFor(session);
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
		const utterance = utterances[index % utterances.length];
		const sequence = session.nextSequence++;
		const timestamp = new Date().toISOString();
		session.transcript.push(transcriptTurn(utterance, sequence, timestamp));
		const frame = finalFrame(utterance, sequence, 'object', timestamp);
		if (stage.broadcast(session.id, frame) > 0) session.sentScriptFrames.push(frame);
	}
	if (endWhenDone && session.status !== 'ended') stage.endSession(session.id, 'call_completed');
}
