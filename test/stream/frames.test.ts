/**
 * parseServerFrame's hand-written hot path against the zod schemas it replaces on the stream:
 * for every frame type and a wide spread of good and bad field values, both give the same
 * verdict — the same event, or the same problem with the same detail.
 */
import { parseServerFrame, parseServerFrameBySchema } from '../../nodes/shared/wire';

/** Values a field may carry on the wire (JSON has no undefined: `undefined` means "absent"). */
const VALUES: unknown[] = [undefined, null, '', 'customer', 'es', 0, 7, -3, 1.5, 1e21, true, false, [], ['x'], {}, { text: 'x' }];
const TRANSLATIONS: unknown[] = [
	...VALUES,
	'Hello',
	{ text: 'Hello' },
	{ text: 'Hello', language: 'en' },
	{ text: 'Hello', language: null },
	{ text: 'Hello', language: 5 },
	{ text: 5, language: 'en' },
	{ language: 'en' },
	{ text: 'Hello', language: 'en', extra: { deep: true } },
	[{ text: 'Hello' }],
];

const FIELDS: Record<string, Record<string, unknown[]>> = {
	'transcript.final': {
		speaker: VALUES,
		text: VALUES,
		language: VALUES,
		sequence: VALUES,
		timestamp: VALUES,
		translation: TRANSLATIONS,
	},
	'transcript.partial': { speaker: VALUES, text: VALUES, language: VALUES, sequence: VALUES },
	'session.ready': { session_id: VALUES },
	pong: { session_id: VALUES },
	'session.error': { code: VALUES, message: VALUES },
	'session.ended': { session_id: VALUES, reason: VALUES },
};

/** A valid frame of each type, the base every variation starts from. */
const VALID: Record<string, Record<string, unknown>> = {
	'transcript.final': {
		type: 'transcript.final',
		speaker: 'customer',
		text: 'Hola',
		language: 'es',
		sequence: 3,
		timestamp: '2026-12-01T20:00:00.000Z',
		translation: { language: 'en', text: 'Hello' },
	},
	'transcript.partial': { type: 'transcript.partial', speaker: 'agent', text: 'Buen', language: 'es', sequence: 4 },
	'session.ready': { type: 'session.ready', session_id: 'sess_1' },
	pong: { type: 'pong', session_id: 'sess_1' },
	'session.error': { type: 'session.error', code: 'invalid_audio_format', message: 'bad audio' },
	'session.ended': { type: 'session.ended', session_id: 'sess_1', reason: 'explicit_end' },
};

/** Deterministic pseudo-random numbers, so a failure reproduces. */
function random(seed: number) {
	return () => {
		seed = (seed * 1103515245 + 12345) & 0x7fffffff;
		return seed / 0x7fffffff;
	};
}

function frames(): string[] {
	const out: string[] = [];
	for (const [type, fields] of Object.entries(FIELDS)) {
		const base = VALID[type];
		out.push(JSON.stringify(base), JSON.stringify({ type }));
		// Each field through each value, the others valid.
		for (const [field, values] of Object.entries(fields)) {
			for (const value of values) out.push(JSON.stringify({ ...base, [field]: value }));
		}
		// Random mixes of several fields at once, plus unknown extra fields (passed through).
		const next = random(type.length * 7919);
		for (let i = 0; i < 400; i++) {
			const frame: Record<string, unknown> = { type, extra: i };
			for (const [field, values] of Object.entries(fields)) {
				frame[field] = next() < 0.5 ? base[field] : values[Math.floor(next() * values.length)];
			}
			out.push(JSON.stringify(frame));
		}
	}
	out.push(
		'not json',
		'[]',
		'null',
		'"text"',
		'{}',
		'{"type":""}',
		'{"type":5}',
		'{"type":"transcript.summary","text":"forward compatible"}',
		'{"type":"toString"}',
		'{"type":"__proto__"}',
		'{"type":"transcript.final","speaker":"a","text":"b","__proto__":{"sequence":"x"}}',
	);
	return out;
}

describe('parseServerFrame hot path', () => {
	const corpus = frames();

	it('gives the zod schemas’ verdict on every frame: same event or same problem', () => {
		const mismatches = corpus.filter((text) => {
			const fast = parseServerFrame(text);
			const reference = parseServerFrameBySchema(text);
			try {
				expect(fast).toStrictEqual(reference);
				return false;
			} catch {
				return true;
			}
		});
		expect(mismatches).toEqual([]);
	});

	it('the corpus exercises both verdicts for every known type', () => {
		for (const type of Object.keys(FIELDS)) {
			const verdicts = corpus
				.filter((text) => text.includes(`"type":"${type}"`))
				.map((text) => parseServerFrameBySchema(text).ok);
			expect(verdicts).toContain(true);
			expect(verdicts).toContain(false);
		}
	});

	it('keeps the frame as `raw` and normalizes translations like the schema path', () => {
		const parsed = parseServerFrame(JSON.stringify({ ...VALID['transcript.final'], translation: 'Hello', note: 1 }));
		expect(parsed).toEqual({
			ok: true,
			event: expect.objectContaining({ translation: { language: null, text: 'Hello' }, raw: expect.objectContaining({ note: 1 }) }),
		});
	});
});
