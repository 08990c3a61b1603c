/**
 * The transcript-turn item both triggers emit: the live Kallglot Trigger for a `transcript.final`
 * frame, the Kallglot Webhook Trigger for a `transcript.segment` event. One shape, so a builder can
 * swap one trigger for the other. Plain data in, plain data out.
 */
import type { Translation } from './wire';

export interface SessionContext {
	sessionId: string;
	sourceLanguage: string | null;
	targetLanguage: string | null;
}

export interface Turn {
	sequence: number | null;
	speaker: string;
	language: string | null;
	text: string;
	translation: Translation | null;
	timestamp: string | null;
}

export type EventItem = Record<string, unknown>;

/**
 * A plain-string translation carries no language; in a two-language session it is the other
 * party's language, which the session tells us.
 */
export function completeTranslation(
	translation: Translation | null,
	language: string | null,
	session: SessionContext,
): Translation | null {
	if (!translation || translation.language) return translation;
	const { sourceLanguage: a, targetLanguage: b } = session;
	const other = language && a && b ? (language === a ? b : language === b ? a : null) : null;
	return { language: other, text: translation.text };
}

/** `receivedAt` as items carry it; a string is taken as already formatted (the live trigger's cache). */
const isoString = (receivedAt: Date | string): string => (typeof receivedAt === 'string' ? receivedAt : receivedAt.toISOString());

/** The keys every event item has; fields that do not apply stay null. */
export function itemBase(event: string, session: SessionContext, receivedAt: Date | string) {
	return {
		event,
		sessionId: session.sessionId,
		speaker: null as string | null,
		language: null as string | null,
		text: null as string | null,
		translation: null as Translation | null,
		isFinal: null as boolean | null,
		sequence: null as number | null,
		receivedAt: isoString(receivedAt),
	};
}

/** The item of one final utterance (`event` names where it came from). */
export function turnItem(event: string, turn: Turn, session: SessionContext, receivedAt: Date | string): EventItem {
	// itemBase's keys in itemBase's order, then timestamp: one object per event on the hot path.
	return {
		event,
		sessionId: session.sessionId,
		speaker: turn.speaker,
		language: turn.language,
		text: turn.text,
		translation: completeTranslation(turn.translation, turn.language, session),
		isFinal: true,
		sequence: turn.sequence,
		receivedAt: isoString(receivedAt),
		timestamp: turn.timestamp,
	};
}
