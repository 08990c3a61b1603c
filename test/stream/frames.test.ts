/**
 * parseServerFrame's hand-written hot path against the zod schemas it replaces on the stream:
 * for every frame type and a wide spread of good and bad field values, both give the same
 * verdict — the same event, or the same problem with the same detail.
 */
import { FRAME_TYPES, STREAM_FRAMES, parseServerFrame, parseServerFrameBySchema } from '../../nodes/shared/wire';

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

/** Every field of each frame type's schema, through every value (from the frame table). */
const FIELDS: Record<string, Record<string, unknown[]>> = Object.fromEntries(
	FRAME_TYPES.map((type) => [
		type,
		Object.fromEntries(Object.keys(STREAM_FRAMES[type].schema.shape).map((field) => [field, field === 'translation' ? TRANSLATIONS : VALUES])),
	]),
);

/** A valid frame of each type (the table's example), the base every variation starts from. */
const VALID: Record<string, Record<string, unknown>> = Object.fromEntries(FRAME_TYPES.map((type) => [type, STREAM_FRAMES[type].example]));

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

describe('the frame table', () => {
	it('each example is valid and parses to its own type, the same way on both paths', () => {
		for (const type of FRAME_TYPES) {
			const text = JSON.stringify(STREAM_FRAMES[type].example);
			expect(parseServerFrame(text)).toMatchObject({ ok: true, event: { type } });
			expect(parseServerFrame(text)).toStrictEqual(parseServerFrameBySchema(text));
		}
	});

	it('a type outside the table is passed on as unknown, never as another event', () => {
		for (const type of ['session.end', 'session.ending', 'transcript.summary', 'constructor', 'hasOwnProperty']) {
			expect(parseServerFrame(JSON.stringify({ type, reason: 'x' }))).toMatchObject({ ok: true, event: { type: 'unknown', wireType: type } });
		}
	});
});

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
