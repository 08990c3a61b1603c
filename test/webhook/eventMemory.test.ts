/**
 * The event memories' contract, on a fake clock (process memory) and on the real Redis of the
 * machine (a unique key prefix per run, deleted afterwards): claim → hand over → duplicate; a
 * released or expired claim lets the redelivery run; copies in flight are told to come back.
 */
import { randomUUID } from 'crypto';

import {
	ProcessEventMemories,
	ProcessEventMemory,
	RedisEventMemory,
	RespClient,
	SeenEvents,
	type ClaimResult,
	type EventMemory,
	type HeldClaim,
} from '../../nodes/shared/webhook';
import { TriggerMemories } from '../../nodes/KallglotWebhookTrigger/memory';

const REDIS = { host: process.env.E2E_REDIS_HOST ?? '127.0.0.1', port: Number(process.env.E2E_REDIS_PORT ?? 6379) };
const held = (result: ClaimResult): HeldClaim => {
	if (result.verdict !== 'claimed') throw new Error(`expected a claim, got ${result.verdict}`);
	return result.claim;
};

describe('process memory (fake clock)', () => {
	let now = 1_800_000_000_000;
	const clock = () => now;
	const memory = () => new ProcessEventMemory(new SeenEvents({ maxEntries: 10, maxAgeSeconds: 100 }), 60_000, clock);

	test('claim, then a copy in flight is in progress, then once handed over a duplicate', async () => {
		const m = memory();
		const claim = held(await m.claim('evt_1'));
		expect((await m.claim('evt_1')).verdict).toBe('in_progress');
		await claim.handedOver();
		expect((await m.claim('evt_1')).verdict).toBe('handed_over');
		expect(Object.keys(m.stateFor().ids)).toEqual(['evt_1']);
	});

	test('a released claim lets the redelivery run; so does one whose process never settled it, after pendingMs', async () => {
		const m = memory();
		await held(await m.claim('evt_1')).release();
		expect((await m.claim('evt_1')).verdict).toBe('claimed');
		now += 59_999;
		expect((await m.claim('evt_1')).verdict).toBe('in_progress');
		now += 1;
		const late = held(await m.claim('evt_1'));
		await late.handedOver();
		expect((await m.claim('evt_1')).verdict).toBe('handed_over');
	});

	test('stateFor(id) saves the id being handed over, without remembering it in the process yet', async () => {
		const m = memory();
		const claim = held(await m.claim('evt_2'));
		expect(Object.keys(m.stateFor('evt_2').ids)).toEqual(['evt_2']);
		expect(m.stateFor().ids).toEqual({});
		await claim.release();
		expect((await m.claim('evt_2')).verdict).toBe('claimed');
	});

	test('one memory per trigger, the persisted state merged in; other triggers are independent', async () => {
		const memories = new ProcessEventMemories(clock);
		const limits = { maxEntries: 10, maxAgeSeconds: 100 };
		held(await memories.forTrigger('wf1:T', undefined, limits).claim('evt_1'));
		expect((await memories.forTrigger('wf1:T', undefined, limits).claim('evt_1')).verdict).toBe('in_progress');
		expect((await memories.forTrigger('wf2:T', undefined, limits).claim('evt_1')).verdict).toBe('claimed');
		const saved = { v: 1, ids: { evt_saved: Math.floor(now / 1000) } };
		expect((await memories.forTrigger('wf3:T', saved, limits).claim('evt_saved')).verdict).toBe('handed_over');
	});
});

describe('process memories (fake clock)', () => {
	test('bounded: a trigger idle for the memory’s age is forgotten, and past maxTriggers the least recently used', async () => {
		let now = 1_800_000_000_000;
		const memories = new ProcessEventMemories(() => now, { maxTriggers: 2, idleMs: 1000 });
		held(await memories.forTrigger('a', undefined).claim('evt_1'));
		held(await memories.forTrigger('b', undefined).claim('evt_1'));
		memories.forTrigger('a', undefined);
		memories.forTrigger('c', undefined);
		expect(memories.size).toBe(2);
		// b was the least recently used: its claim is gone, a's is kept.
		expect((await memories.forTrigger('a', undefined).claim('evt_1')).verdict).toBe('in_progress');
		expect((await memories.forTrigger('b', undefined).claim('evt_1')).verdict).toBe('claimed');
		now += 1001;
		memories.forTrigger('d', undefined);
		expect(memories.size).toBe(1);
	});
});

describe('trigger memories', () => {
	test('one Redis connection per credential, at most 8: past it the least recently used is closed and replaced', () => {
		const memories = new TriggerMemories();
		const options = (database: number) => ({ host: '127.0.0.1', port: 6379, database });
		const clients = [0, 1, 2, 3, 4, 5, 6, 7].map((db) => memories.redisClient(options(db)));
		expect(memories.redisClient(options(0))).toBe(clients[0]);
		// Database 1 is now the least recently used: the ninth credential replaces it.
		memories.redisClient(options(8));
		expect(memories.redisClient(options(1))).not.toBe(clients[1]);
		expect(memories.redisClient(options(0))).toBe(clients[0]);
	});
});

describe('Redis memory (the machine’s Redis)', () => {
	const prefix = `kallglot-test:${randomUUID()}:`;
	const client = new RespClient(REDIS);
	const memory = (pendingMs = 60_000): EventMemory => new RedisEventMemory(client, (id) => prefix + id, { pendingMs, rememberMs: 120_000 });

	afterAll(async () => {
		const keys = (await client.send(['KEYS', `${prefix}*`])) as string[];
		if (keys.length) await client.send(['DEL', ...keys]);
		client.close();
	});

	test('claim, in progress, handed over (kept for rememberMs); the key says which', async () => {
		const m = memory();
		const claim = held(await m.claim('evt_1'));
		expect((await m.claim('evt_1')).verdict).toBe('in_progress');
		expect(await client.send(['GET', `${prefix}evt_1`])).toMatch(/^pending:/);
		await claim.handedOver();
		expect((await m.claim('evt_1')).verdict).toBe('handed_over');
		const ttl = (await client.send(['PTTL', `${prefix}evt_1`])) as number;
		expect(ttl).toBeGreaterThan(60_000);
		expect(ttl).toBeLessThanOrEqual(120_000);
	});

	test('a release deletes only its own claim; an unsettled claim expires (PX) so the redelivery runs', async () => {
		const m = memory();
		await held(await m.claim('evt_2')).release();
		expect(await client.send(['EXISTS', `${prefix}evt_2`])).toBe(0);
		const first = held(await m.claim('evt_2'));
		// Another delivery's claim now holds the key: a stale release must not free it.
		await client.send(['SET', `${prefix}evt_2`, 'pending:someone-else']);
		await first.release();
		expect(await client.send(['GET', `${prefix}evt_2`])).toBe('pending:someone-else');

		held(await memory(1).claim('evt_3'));
		for (let i = 0; i < 100 && (await client.send(['EXISTS', `${prefix}evt_3`])) === 1; i++) await new Promise((r) => setTimeout(r, 5));
		expect((await memory().claim('evt_3')).verdict).toBe('claimed');
	});

	test('200 concurrent claims of 100 ids over 4 connections: exactly one claim per id', async () => {
		const clients = Array.from({ length: 4 }, () => new RespClient(REDIS));
		try {
			const memories = clients.map((c) => new RedisEventMemory(c, (id) => `${prefix}burst:${id}`));
			const ids = Array.from({ length: 100 }, (_, i) => `evt_${i}`);
			const results = await Promise.all(ids.flatMap((id, i) => [memories[i % 4].claim(id), memories[(i + 1) % 4].claim(id)]));
			expect(results.filter((r) => r.verdict === 'claimed')).toHaveLength(100);
			expect(results.filter((r) => r.verdict === 'in_progress')).toHaveLength(100);
		} finally {
			for (const c of clients) c.close();
		}
	});
});
