import { createHmac } from 'crypto';

import { parseSignatureHeader, verifySignature } from '../../nodes/shared/webhook/signature';

const SECRET = 'whsec_current_0123456789abcdef';
const PREVIOUS = 'whsec_previous_fedcba9876543210';
const NOW = 1_800_000_000;

/** Signed the way Kallglot signs, independently of the code under test. */
const sign = (secret: string, t: number, body: Buffer | string) =>
	createHmac('sha256', secret).update(Buffer.concat([Buffer.from(`${t}.`), Buffer.from(body)])).digest('hex');

const body = Buffer.from(
	'{"id":"evt_1","object":"webhook_event","type":"session.ended","api_version":"v1","created_at":"2027-01-01T00:00:00Z","data":{"id":"sess_1"}}',
);
const verify = (header: string | string[] | undefined, options: { raw?: Buffer; secrets?: string[]; tolerance?: number; now?: number } = {}) =>
	verifySignature(options.raw ?? body, header, {
		secrets: options.secrets ?? [SECRET],
		toleranceSeconds: options.tolerance,
		now: options.now ?? NOW,
	});

describe('webhook signature verification', () => {
	test('a correctly signed body passes', () => {
		expect(verify(`t=${NOW},v1=${sign(SECRET, NOW, body)}`)).toEqual({ ok: true, timestamp: NOW });
	});

	test('spaces around parts, upper-case hex and unknown schemes are tolerated', () => {
		const v1 = sign(SECRET, NOW, body).toUpperCase();
		expect(verify(` t=${NOW} , v0=abc, v1=${v1} `).ok).toBe(true);
	});

	test.each([
		['no header', undefined],
		['an empty header', ''],
		['a blank header', '   '],
	])('%s → missing', (_what, header) => {
		expect(verify(header)).toMatchObject({ ok: false, reason: 'missing' });
	});

	test.each([
		['no t=', `v1=${'a'.repeat(64)}`],
		['no v1=', `t=${NOW}`],
		['two t=', `t=${NOW},t=${NOW},v1=${'a'.repeat(64)}`],
		['a t= that is not seconds', `t=${NOW}.5,v1=${'a'.repeat(64)}`],
		['a negative t=', `t=-${NOW},v1=${'a'.repeat(64)}`],
		['a short v1=', `t=${NOW},v1=abcd`],
		['a non-hex v1=', `t=${NOW},v1=${'z'.repeat(64)}`],
		['a part without =', `t=${NOW},garbage`],
		['the signature alone', sign(SECRET, NOW, body)],
	])('%s → malformed', (_what, header) => {
		const verdict = verify(header);
		expect(verdict).toMatchObject({ ok: false, reason: 'malformed' });
	});

	test('a signature made with another secret → mismatch', () => {
		expect(verify(`t=${NOW},v1=${sign('whsec_someone_else_000000', NOW, body)}`)).toMatchObject({ ok: false, reason: 'mismatch' });
	});

	test('a tampered body → mismatch (one byte changed, one byte added, whitespace re-formatted)', () => {
		const header = `t=${NOW},v1=${sign(SECRET, NOW, body)}`;
		const flipped = Buffer.from(body);
		flipped[flipped.length - 3] ^= 1;
		expect(verify(header, { raw: flipped })).toMatchObject({ reason: 'mismatch' });
		expect(verify(header, { raw: Buffer.concat([body, Buffer.from('\n')]) })).toMatchObject({ reason: 'mismatch' });
		const reserialized = Buffer.from(JSON.stringify(JSON.parse(body.toString()), null, 1));
		expect(verify(header, { raw: reserialized })).toMatchObject({ reason: 'mismatch' });
	});

	test('a signature for another timestamp → mismatch (t is part of what is signed)', () => {
		expect(verify(`t=${NOW},v1=${sign(SECRET, NOW - 1, body)}`)).toMatchObject({ reason: 'mismatch' });
	});

	test('the raw bytes are what counts: non-ASCII text and odd whitespace verify as sent', () => {
		const raw = Buffer.from('{ "id":"evt_ü","type" :"transcript.segment",\t"data":{"text":"¿Dónde está? 你好 👋\\u00e9","x":"a\r\nb"}  }\n\n', 'utf8');
		const header = `t=${NOW},v1=${sign(SECRET, NOW, raw)}`;
		expect(verify(header, { raw }).ok).toBe(true);
		// The same text in another encoding is other bytes.
		expect(verify(header, { raw: Buffer.from(raw.toString('utf8'), 'latin1') })).toMatchObject({ reason: 'mismatch' });
	});

	test('an empty body can be signed and verified', () => {
		const raw = Buffer.alloc(0);
		expect(verify(`t=${NOW},v1=${sign(SECRET, NOW, raw)}`, { raw }).ok).toBe(true);
	});

	describe('rotation', () => {
		test('a delivery signed with the previous secret passes while it is configured', () => {
			const header = `t=${NOW},v1=${sign(PREVIOUS, NOW, body)}`;
			expect(verify(header, { secrets: [SECRET, PREVIOUS] }).ok).toBe(true);
			expect(verify(header, { secrets: [SECRET] })).toMatchObject({ reason: 'mismatch' });
		});

		test('several v1= values: one matching is enough, in any position', () => {
			const good = sign(SECRET, NOW, body);
			const other = sign('whsec_unrelated_00000000', NOW, body);
			expect(verify(`t=${NOW},v1=${other},v1=${good}`).ok).toBe(true);
			expect(verify(`t=${NOW},v1=${good},v1=${other}`).ok).toBe(true);
			expect(verify(`t=${NOW},v1=${other},v1=${other}`)).toMatchObject({ reason: 'mismatch' });
		});

		test('a header sent twice (array) is read as one list', () => {
			expect(verify([`t=${NOW}`, `v1=${sign(SECRET, NOW, body)}`]).ok).toBe(true);
		});

		test('empty secrets are ignored, never matched', () => {
			expect(verify(`t=${NOW},v1=${sign('', NOW, body)}`, { secrets: ['', SECRET] })).toMatchObject({ reason: 'mismatch' });
			expect(verify(`t=${NOW},v1=${sign('', NOW, body)}`, { secrets: [] })).toMatchObject({ reason: 'mismatch' });
		});
	});

	describe('timestamp tolerance', () => {
		const at = (t: number, tolerance?: number) => verify(`t=${t},v1=${sign(SECRET, t, body)}`, { tolerance });

		test('default 300 s: exactly 300 s old or ahead passes, 301 s is stale', () => {
			expect(at(NOW - 300).ok).toBe(true);
			expect(at(NOW + 300).ok).toBe(true);
			expect(at(NOW - 301)).toMatchObject({ ok: false, reason: 'stale' });
			expect(at(NOW + 301)).toMatchObject({ ok: false, reason: 'stale' });
		});

		test('a configured tolerance moves the edge', () => {
			expect(at(NOW - 10, 10).ok).toBe(true);
			expect(at(NOW - 11, 10)).toMatchObject({ reason: 'stale' });
			expect(at(NOW - 3600, 7200).ok).toBe(true);
		});

		test('an old replay with a wrong signature says mismatch, not stale', () => {
			expect(verify(`t=${NOW - 9999},v1=${'0'.repeat(64)}`)).toMatchObject({ reason: 'mismatch' });
		});
	});

	test('verdict messages never contain the secret or the body', () => {
		const verdicts = [
			verify(undefined),
			verify('t=x'),
			verify(`t=${NOW},v1=${'0'.repeat(64)}`),
			verify(`t=${NOW - 999},v1=${sign(SECRET, NOW - 999, body)}`),
		];
		for (const verdict of verdicts) {
			const text = JSON.stringify(verdict);
			expect(text).not.toContain(SECRET);
			expect(text).not.toContain('evt_1');
		}
	});

	test('parseSignatureHeader returns every v1 digest', () => {
		const parsed = parseSignatureHeader(`t=${NOW},v1=${'a'.repeat(64)},v1=${'b'.repeat(64)}`);
		expect(typeof parsed).toBe('object');
		if (typeof parsed === 'string') return;
		expect(parsed.timestamp).toBe(NOW);
		expect(parsed.signatures.map((s) => s.toString('hex'))).toEqual(['a'.repeat(64), 'b'.repeat(64)]);
	});
});
