/**
 * EmittedFinals' answer for a final past the highest sequence it recorded comes without scanning
 * its window; these hold that shortcut to the same answers as the scan, whatever arrives.
 */
import { EmittedFinals } from '../../nodes/shared/stream/emitted';

const final = (sequence: number | null, text = 't') => ({ sequence, speaker: 'customer', text });

describe('EmittedFinals', () => {
	it('with a full window: new sequences stay new, recorded and older ones stay known', () => {
		const emitted = new EmittedFinals({}, 20, 200);
		for (let sequence = 1; sequence <= 1000; sequence++) {
			expect(emitted.has('sess_a', final(sequence))).toBe(false);
			emitted.record('sess_a', [final(sequence)], sequence);
			expect(emitted.has('sess_a', final(sequence))).toBe(true);
		}
		expect([1, 500, 801, 1000].map((s) => emitted.has('sess_a', final(s)))).toEqual([true, true, true, true]);
		expect(emitted.has('sess_a', final(1001))).toBe(false);
	});

	it('a sequence past the highest recorded is new; one recorded is not; finals without a sequence by content', () => {
		const emitted = new EmittedFinals({});
		emitted.record('sess_a', [final(5), final(null, 'hola')], 0);
		expect(emitted.has('sess_a', final(6))).toBe(false);
		expect(emitted.has('sess_a', final(5))).toBe(true);
		expect(emitted.has('sess_a', final(null, 'hola'))).toBe(true);
		expect(emitted.has('sess_a', final(null, 'adiós'))).toBe(false);
		expect(emitted.has('sess_b', final(5))).toBe(false);
	});
});
