/**
 * Webhook events as workflow items, and the builder's event/metadata/mode filters. One documented
 * shape for every event; a transcript.segment item has the keys of the live trigger's
 * transcript.final item (shared turnItem), so one trigger can replace the other. Plain data.
 */
import { turnItem, type EventItem, type SessionContext } from '../transcriptItems';
import {
	normalizeTranslation,
	transcriptSegmentData,
	WEBHOOK_EVENT_TYPES,
	webhookEnvelope,
	webhookSessionId,
	type WebhookEnvelope,
} from '../wire';

/** What the item tells about the session: from the event itself or from a lookup. */
export interface SessionFacts {
	mode: string | null;
	metadata: Record<string, unknown> | null;
	sourceLanguage: string | null;
	targetLanguage: string | null;
}

export const NO_SESSION_FACTS: SessionFacts = { mode: null, metadata: null, sourceLanguage: null, targetLanguage: null };

export interface WebhookSelection {
	events: ReadonlySet<string>;
	passUnknown: boolean;
	/** Every pair must match the session's metadata (values compared as text). */
	metadata: ReadonlyArray<{ key: string; value: string }>;
	/** Empty = every mode. */
	modes: ReadonlySet<string>;
}

export type ParsedDelivery = { ok: true; envelope: WebhookEnvelope } | { ok: false; detail: string };

/** Parses the verified body. Never throws; `detail` names fields, never their values. */
export function parseDelivery(rawBody: Buffer): ParsedDelivery {
	let json: unknown;
	try {
		json = JSON.parse(rawBody.toString('utf8'));
	} catch {
		return { ok: false, detail: 'body is not valid JSON' };
	}
	const parsed = webhookEnvelope.safeParse(json);
	if (!parsed.success) {
		const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || '(root)'))];
		return { ok: false, detail: `envelope has invalid fields: ${fields.join(', ')}` };
	}
	return { ok: true, envelope: parsed.data };
}

const KNOWN_TYPES: ReadonlySet<string> = new Set(WEBHOOK_EVENT_TYPES);

/** Whether the event type is one the builder chose (the cheap check, before any lookup). */
export function isTypeSelected(type: string, selection: WebhookSelection): boolean {
	return KNOWN_TYPES.has(type) ? selection.events.has(type) : selection.passUnknown;
}

/** Whether the session matches the metadata and mode filters. */
export function matchesSession(facts: SessionFacts, selection: WebhookSelection): boolean {
	if (selection.modes.size && !(facts.mode && selection.modes.has(facts.mode))) return false;
	return selection.metadata.every(({ key, value }) => {
		const actual = facts.metadata?.[key];
		return actual !== undefined && actual !== null && String(actual) === value;
	});
}

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** Session facts from a session object (an event's `data`, or GET /v1/sessions/{id}). */
export function sessionFacts(session: Record<string, unknown>): SessionFacts {
	const metadata = session.metadata;
	return {
		mode: text(session.mode),
		metadata: typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata) ? (metadata as Record<string, unknown>) : {},
		sourceLanguage: text(session.source_language),
		targetLanguage: text(session.target_language),
	};
}

/** The item for one accepted event. */
export function webhookItem(envelope: WebhookEnvelope, facts: SessionFacts, receivedAt: Date): EventItem {
	const sessionId = webhookSessionId(envelope);
	const common = {
		eventId: envelope.id,
		createdAt: envelope.created_at ?? null,
		mode: facts.mode,
		metadata: facts.metadata,
		data: envelope.data,
	};
	if (envelope.type === 'transcript.segment') {
		const segment = transcriptSegmentData.safeParse(envelope.data);
		if (segment.success) {
			const session: SessionContext = {
				sessionId: sessionId ?? '',
				sourceLanguage: facts.sourceLanguage,
				targetLanguage: facts.targetLanguage,
			};
			const s = segment.data;
			const turn = {
				sequence: s.sequence ?? null,
				speaker: s.speaker,
				language: s.language ?? null,
				text: s.text,
				translation: normalizeTranslation(s.translation),
				timestamp: s.timestamp ?? null,
			};
			return { ...turnItem(envelope.type, turn, session, receivedAt), ...common, sessionId };
		}
	}
	return { event: envelope.type, ...common, sessionId, receivedAt: receivedAt.toISOString() };
}
