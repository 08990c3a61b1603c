/**
 * Stream events as workflow items: one documented, normalized shape, whatever the wire sent.
 * Plain data in, plain data out, so the mapping can be read and tested on its own.
 */
import { completeTranslation, itemBase, turnItem, type EventItem, type SessionContext, type Turn } from '../shared/transcriptItems';
import type { StreamEvent } from '../shared/wire';

export type { EventItem, SessionContext, Turn } from '../shared/transcriptItems';

/** What the builder may choose under Events (the editor's options come from here). */
export const EVENT_CHOICES = {
	finals: { name: 'Final Transcripts', description: 'Each finished utterance, with its translation when there is one' },
	partials: { name: 'Partial Transcripts', description: 'In-progress utterances (many per utterance)' },
	ended: { name: 'Session Ended', description: 'The session ended (once, with the reason)' },
	errors: { name: 'Session Errors', description: 'Errors Kallglot reports on the stream' },
	ready: { name: 'Session Ready', description: 'The stream is connected' },
	translations: { name: 'Translations', description: 'Only finished utterances that carry a translation' },
} as const satisfies Record<string, { name: string; description: string }>;

/** What the builder chose under Events. `translations` = finals that carry a translation. */
export type EventChoice = keyof typeof EVENT_CHOICES;

/** The Events options, sorted by name as n8n lists multi-options. */
export const eventChoiceOptions = () =>
	(Object.keys(EVENT_CHOICES) as EventChoice[])
		.map((value) => ({ value, ...EVENT_CHOICES[value] }))
		.sort((a, b) => a.name.localeCompare(b.name));

/** The compiler's check that a switch handled every case. */
const unhandled = (value: never): never => {
	throw new Error(`unhandled stream event: ${JSON.stringify((value as { type?: unknown })?.type)}`);
};

export interface EventSelection {
	events: ReadonlySet<EventChoice>;
	/** Empty = every speaker / language. Lower-cased. */
	speakers: ReadonlySet<string>;
	languages: ReadonlySet<string>;
	includeRaw: boolean;
	passUnknown: boolean;
}

function matchesFilters(speaker: string, language: string | null, selection: EventSelection): boolean {
	if (selection.speakers.size && !selection.speakers.has(speaker.toLowerCase())) return false;
	if (selection.languages.size && !(language && selection.languages.has(language.toLowerCase()))) return false;
	return true;
}

/** Whether an event is one the builder asked for. */
export function isSelected(event: StreamEvent, selection: EventSelection): boolean {
	const { events } = selection;
	switch (event.type) {
		case 'transcript.final':
			if (!(events.has('finals') || (events.has('translations') && event.translation))) return false;
			return matchesFilters(event.speaker, event.language, selection);
		case 'transcript.partial':
			return events.has('partials') && matchesFilters(event.speaker, event.language, selection);
		case 'session.ready':
			return events.has('ready');
		case 'session.ended':
			return events.has('ended');
		case 'session.error':
			return events.has('errors');
		case 'unknown':
			return selection.passUnknown;
		case 'pong':
			return false;
		default:
			return unhandled(event);
	}
}

/** Whether a final belongs in the per-session transcript (filters apply there too). */
export function isTurn(event: StreamEvent, selection: EventSelection): event is Extract<StreamEvent, { type: 'transcript.final' }> {
	return event.type === 'transcript.final' && matchesFilters(event.speaker, event.language, selection);
}

export function toTurn(event: Extract<StreamEvent, { type: 'transcript.final' }>, session: SessionContext): Turn {
	return {
		sequence: event.sequence,
		speaker: event.speaker,
		language: event.language,
		text: event.text,
		translation: completeTranslation(event.translation, event.language, session),
		timestamp: event.timestamp,
	};
}

/** The item for one event. The session's end has its own item (endedItem), whichever way it ended. */
export function eventItem(
	event: StreamEvent,
	session: SessionContext,
	/** A Date, or the ISO string already formatted. */
	receivedAt: Date | string,
	includeRaw: boolean,
): EventItem {
	if (event.type === 'transcript.final') {
		const item = turnItem(event.type, toTurn(event, session), session, receivedAt);
		if (includeRaw) item.raw = event.raw;
		return item;
	}
	const item: EventItem = itemBase(event.type === 'unknown' ? event.wireType : event.type, session, receivedAt);
	switch (event.type) {
		case 'transcript.partial':
			Object.assign(item, {
				speaker: event.speaker,
				language: event.language,
				text: event.text,
				isFinal: false,
				sequence: event.sequence,
			});
			break;
		case 'session.error':
			Object.assign(item, { code: event.code, message: event.message });
			break;
		case 'session.ready':
		case 'session.ended':
		case 'pong':
		case 'unknown':
			break;
		default:
			unhandled(event);
	}
	// Unknown events are only passed through on request, and then their content is the point.
	if (includeRaw || event.type === 'unknown') item.raw = event.raw;
	return item;
}

export function endedItem(session: SessionContext, reason: string | null, receivedAt: Date, stream: Record<string, number>): EventItem {
	return { ...itemBase('session.ended', session, receivedAt), reason, stream };
}

export function summaryItem(
	session: SessionContext,
	turns: Turn[],
	reason: string | null,
	startedAt: Date,
	endedAt: Date,
	stream: Record<string, number>,
): EventItem {
	const languages = [...new Set(turns.flatMap((t) => [t.language, t.translation?.language]).filter(Boolean))];
	return {
		event: 'session.transcript',
		sessionId: session.sessionId,
		reason,
		startedAt: startedAt.toISOString(),
		endedAt: endedAt.toISOString(),
		turnCount: turns.length,
		languages,
		turns: [...turns].sort((a, b) => (a.sequence ?? 0) - (b.sequence ?? 0)),
		stream,
	};
}
