import { SeenEvents, type SeenEventsState } from '../../nodes/shared/webhook/seenEvents';
import { SessionCache } from '../../nodes/shared/webhook/sessionCache';

const T = 1_800_000_000;
const limits = { maxEntries: 3, maxAgeSeconds: 100 };

describe('seen-event store', () => {
	test('the first claim of an id wins; every later one is a duplicate', () => {
		const seen = new SeenEvents(limits);
		expect(seen.claim('evt_1', T)).toBe(true);
		expect(seen.claim('evt_1', T)).toBe(false);
		expect(seen.claim('evt_1', T + 50)).toBe(false);
		expect(seen.claim('evt_2', T)).toBe(true);
	});

	test('bounded by count: the oldest ids are forgotten first', () => {
		const seen = new SeenEvents(limits);
		for (const [i, id] of ['a', 'b', 'c', 'd'].entries()) seen.claim(id, T + i);
		expect(seen.size).toBe(3);
		expect(Object.keys(seen.toState().ids)).toEqual(['b', 'c', 'd']);
		expect(seen.claim('a', T + 5)).toBe(true);
	});

	test('bounded by age: an id older than maxAgeSeconds is forgotten, at the edge it is kept', () => {
		const seen = new SeenEvents(limits);
		seen.claim('evt_1', T);
		expect(seen.claim('evt_1', T + 100)).toBe(false);
		expect(seen.claim('evt_1', T + 101)).toBe(true);
	});

	test('round-trips through the plain object kept in static data (JSON-safe)', () => {
		const first = new SeenEvents(limits);
		first.claim('evt_1', T);
		first.claim('evt_2', T + 1);
		const saved = JSON.parse(JSON.stringify(first.toState())) as SeenEventsState;
		expect(saved).toEqual({ v: 1, ids: { evt_1: T, evt_2: T + 1 } });

		const restarted = new SeenEvents(limits).load(saved);
		expect(restarted.claim('evt_1', T + 2)).toBe(false);
		expect(restarted.claim('evt_3', T + 2)).toBe(true);
	});

	test('anything that is not a saved state loads as empty, without throwing', () => {
		for (const junk of [undefined, null, 42, 'x', [], {}, { v: 2, ids: {} }, { v: 1, ids: null }, { v: 1, ids: { evt_1: 'soon' } }]) {
			const seen = new SeenEvents(limits).load(junk);
			expect(seen.claim('evt_1', T)).toBe(true);
		}
	});

	test('loading merges: ids kept in memory and ids from static data are both remembered, oldest pruned first', () => {
		const seen = new SeenEvents(limits);
		seen.claim('mem', T + 10);
		seen.load({ v: 1, ids: { old: T, newer: T + 20 } });
		expect(Object.keys(seen.toState().ids)).toEqual(['old', 'mem', 'newer']);
		seen.claim('latest', T + 30);
		expect(Object.keys(seen.toState().ids)).toEqual(['mem', 'newer', 'latest']);
	});
});

describe('session cache', () => {
	test('one lookup per session within the TTL, shared by concurrent callers; a failure is not cached', async () => {
		let now = 0;
		const cache = new SessionCache<{ n: number }>({ ttlMs: 1000, maxEntries: 2 }, () => now);
		let loads = 0;
		const load = async () => ({ n: ++loads });
		const [x, y] = await Promise.all([cache.get('s1', load), cache.get('s1', load)]);
		expect([x.n, y.n, loads]).toEqual([1, 1, 1]);
		now = 1000;
		expect((await cache.get('s1', load)).n).toBe(1);
		now = 1001;
		expect((await cache.get('s1', load)).n).toBe(2);

		await expect(cache.get('s2', async () => Promise.reject(new Error('down')))).rejects.toThrow('down');
		expect((await cache.get('s2', load)).n).toBe(3);
	});

	test('bounded by count', async () => {
		const cache = new SessionCache<number>({ ttlMs: 1000, maxEntries: 2 }, () => 0);
		for (const id of ['a', 'b', 'c']) cache.set(id, 1);
		expect(cache.size).toBe(2);
		let loaded = false;
		await cache.get('a', async () => {
			loaded = true;
			return 2;
		});
		expect(loaded).toBe(true);
	});
});
