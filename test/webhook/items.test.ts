import { eventItem } from '../../nodes/KallglotTrigger/items';
import { signingSecretProblem } from '../../nodes/shared/webhook/secret';
import {
	isTypeSelected,
	matchesSession,
	NO_SESSION_FACTS,
	parseDelivery,
	sessionFacts,
	webhookItem,
	type WebhookSelection,
} from '../../nodes/shared/webhook/items';
import { parseServerFrame, WEBHOOK_EVENT_TYPES } from '../../nodes/shared/wire';

const receivedAt = new Date('2027-03-01T10:00:05.000Z');
const session = {
	id: 'sess_1',
	object: 'session',
	status: 'ended',
	mode: 'ai_agent',
	source_language: 'es',
	target_language: 'en',
	metadata: { campaign: 'spring-2027', contact_id: 42 },
};
const envelope = (type: string, data: Record<string, unknown>) =>
	Buffer.from(JSON.stringify({ id: 'evt_1', object: 'webhook_event', type, api_version: 'v1', created_at: '2027-03-01T10:00:00Z', data }));
const parsed = (raw: Buffer) => {
	const result = parseDelivery(raw);
	if (!result.ok) throw new Error(result.detail);
	return result.envelope;
};

const selection = (over: Partial<WebhookSelection> = {}): WebhookSelection => ({
	events: new Set(['session.ended']),
	passUnknown: false,
	metadata: [],
	modes: new Set(),
	...over,
});

describe('webhook items', () => {
	test('a session event: the documented keys, metadata and mode from the session itself', () => {
		const e = parsed(envelope('session.ended', { ...session, duration_seconds: 61.5, end_reason: 'call_completed' }));
		expect(webhookItem(e, sessionFacts(e.data), receivedAt)).toEqual({
			event: 'session.ended',
			eventId: 'evt_1',
			createdAt: '2027-03-01T10:00:00Z',
			sessionId: 'sess_1',
			mode: 'ai_agent',
			metadata: { campaign: 'spring-2027', contact_id: 42 },
			data: expect.objectContaining({ duration_seconds: 61.5, end_reason: 'call_completed' }),
			receivedAt: '2027-03-01T10:00:05.000Z',
		});
	});

	test('a recording event takes sessionId from session_id and metadata from the looked-up session', () => {
		const e = parsed(envelope('recording.ready', { id: 'rec_1', object: 'recording', session_id: 'sess_1', channel: 'agent' }));
		const item = webhookItem(e, sessionFacts(session), receivedAt);
		expect(item).toMatchObject({ event: 'recording.ready', sessionId: 'sess_1', metadata: session.metadata, mode: 'ai_agent', data: { id: 'rec_1' } });
	});

	test('a transcript.segment item has exactly the keys of the live trigger’s transcript.final item (plus the webhook keys)', () => {
		const segment = {
			object: 'transcript_segment',
			session_id: 'sess_1',
			sequence: 3,
			speaker: 'customer',
			language: 'es',
			text: '¿Puedo cambiar mi vuelo?',
			translation: { language: 'en', text: 'Can I change my flight?' },
			timestamp: '2027-03-01T10:00:03Z',
		};
		const item = webhookItem(parsed(envelope('transcript.segment', segment)), sessionFacts(session), receivedAt);
		const frame = parseServerFrame(JSON.stringify({ type: 'transcript.final', ...segment }));
		if (!frame.ok) throw new Error('frame');
		const live = eventItem(frame.event, { sessionId: 'sess_1', sourceLanguage: 'es', targetLanguage: 'en' }, receivedAt, false);

		const { event, eventId, createdAt, mode, metadata, data, ...shared } = item;
		const { event: liveEvent, ...liveShared } = live;
		expect(shared).toEqual(liveShared);
		expect([event, liveEvent]).toEqual(['transcript.segment', 'transcript.final']);
		expect({ eventId, createdAt, mode, metadata }).toEqual({ eventId: 'evt_1', createdAt: '2027-03-01T10:00:00Z', mode: 'ai_agent', metadata: session.metadata });
		expect(data).toEqual(segment);
	});

	test('a plain-string segment translation is completed with the other language of the session', () => {
		const item = webhookItem(
			parsed(envelope('transcript.segment', { session_id: 'sess_1', speaker: 'agent', language: 'en', text: 'Sure.', translation: 'Claro.' })),
			sessionFacts(session),
			receivedAt,
		);
		expect(item.translation).toEqual({ language: 'es', text: 'Claro.' });
	});

	test('a segment that does not match the schema still becomes an item with its data', () => {
		const item = webhookItem(parsed(envelope('transcript.segment', { session_id: 'sess_1', text: 5 })), NO_SESSION_FACTS, receivedAt);
		expect(item).toMatchObject({ event: 'transcript.segment', sessionId: 'sess_1', data: { text: 5 }, metadata: null });
	});

	test.each([
		['not JSON', Buffer.from('{"id":'), 'body is not valid JSON'],
		['no id', Buffer.from('{"type":"session.ended","data":{}}'), 'id'],
		['data not an object', Buffer.from('{"id":"evt_1","type":"x","data":[]}'), 'data'],
	])('a malformed envelope (%s) is a problem naming the field, never a throw', (_what, raw, detail) => {
		const result = parseDelivery(raw);
		expect(result.ok).toBe(false);
		if (!result.ok) expect(result.detail).toContain(detail);
	});
});

describe('webhook filters', () => {
	test('every documented type can be selected; unknown types only on request', () => {
		for (const type of WEBHOOK_EVENT_TYPES) {
			expect(isTypeSelected(type, selection({ events: new Set([type]) }))).toBe(true);
			expect(isTypeSelected(type, selection({ events: new Set() }))).toBe(false);
		}
		expect(isTypeSelected('call.transferred', selection())).toBe(false);
		expect(isTypeSelected('call.transferred', selection({ passUnknown: true }))).toBe(true);
		// passUnknown does not re-enable a known type left unselected.
		expect(isTypeSelected('session.created', selection({ passUnknown: true }))).toBe(false);
	});

	test('metadata: all pairs must match, values compared as text; a missing key never matches', () => {
		const facts = sessionFacts(session);
		expect(matchesSession(facts, selection({ metadata: [{ key: 'campaign', value: 'spring-2027' }] }))).toBe(true);
		expect(matchesSession(facts, selection({ metadata: [{ key: 'campaign', value: 'spring-2027' }, { key: 'contact_id', value: '42' }] }))).toBe(true);
		expect(matchesSession(facts, selection({ metadata: [{ key: 'campaign', value: 'spring-2027' }, { key: 'contact_id', value: '43' }] }))).toBe(false);
		expect(matchesSession(facts, selection({ metadata: [{ key: 'region', value: '' }] }))).toBe(false);
		expect(matchesSession(NO_SESSION_FACTS, selection({ metadata: [{ key: 'campaign', value: 'spring-2027' }] }))).toBe(false);
	});

	test('modes: empty means every mode', () => {
		const facts = sessionFacts(session);
		expect(matchesSession(facts, selection())).toBe(true);
		expect(matchesSession(facts, selection({ modes: new Set(['ai_agent']) }))).toBe(true);
		expect(matchesSession(facts, selection({ modes: new Set(['assistive_translation']) }))).toBe(false);
	});
});

describe('signing secret check (credential test)', () => {
	const good = 'whsec_0123456789abcdef';
	test.each([
		['', undefined, 'empty'],
		[` ${good}`, undefined, 'starts or ends'],
		[`${good}\n`, undefined, 'starts or ends'],
		['whsec_0123 456789abcdef', undefined, 'one word'],
		['short', undefined, 'shorter than 16'],
		[good, 'tiny', 'previous signing secret is shorter'],
		[good, good, 'same as the current'],
	])('%j / %j → a problem mentioning "%s"', (current, previous, problem) => {
		expect(signingSecretProblem(current, previous)).toContain(problem);
	});

	test('a well-formed secret (with or without a previous one) passes', () => {
		expect(signingSecretProblem(good, '')).toBeNull();
		expect(signingSecretProblem(good, 'whsec_fedcba9876543210')).toBeNull();
	});
});
