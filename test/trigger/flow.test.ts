/**
 * Execution flow control (order, parallelism, bounded queue with coalescing, batches) and the
 * memory of emitted finals that outlives the trigger instance (workflow static data).
 */
import { systemClock } from '../../nodes/shared/clock';
import type { IDataObject } from 'n8n-workflow';
import { BILINGUAL_CALL, type KallglotSandbox } from '../../sandbox';
import { EMITTED_MAX_RECENT, EMITTED_MAX_SESSIONS, EmittedFinals } from '../../nodes/shared/stream/emitted';
import { ExecutionQueue } from '../../nodes/KallglotTrigger/flow';
import type { EventItem } from '../../nodes/KallglotTrigger/items';
import { activateTrigger, logLines, waitFor } from '../helpers/trigger';
import { FakeClock } from '../helpers/clock';
import { createSessionId, sandboxPerTest } from './helpers';

let sandbox: KallglotSandbox;
const track = sandboxPerTest((started) => (sandbox = started));
const credentials = () => ({ apiKey: sandbox.apiKey, baseUrl: sandbox.baseUrl });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const createSession = () => createSessionId(sandbox);

async function listen(sessionId: string, extra: Record<string, unknown> = {}, more: { staticData?: IDataObject; autoFinish?: boolean; clock?: FakeClock } = {}) {
	return track(await activateTrigger({ parameters: { sessionSource: 'existing', sessionId, ...extra } as never, credentials: credentials(), ...more }));
}

/** Every final sequence the executions carried, flattening batches, in execution order. */
const sequencesOf = (executions: IDataObject[]) =>
	executions.flatMap((e) => (e.event === 'session.batch' ? (e.items as IDataObject[]) : [e])).filter((i) => i.event === 'transcript.final').map((i) => i.sequence as number);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => from + k);

describe('executions of a session start in order, one at a time by default', () => {
	test('the next execution starts only when the previous one finished (its donePromise)', async () => {
		const id = await createSession();
		const t = await listen(id, {}, { autoFinish: false });
		void sandbox.sendFinals(id, { count: 20 });
		await waitFor(() => (t.emits === 1 ? true : undefined), 10_000, 'the first execution');
		await sleep(200);
		expect(t.emits).toBe(1); // 19 wait for it
		for (let n = 2; n <= 20; n++) {
			t.finish(1);
			await waitFor(() => (t.emits === n ? true : undefined), 10_000, `execution ${n}`);
			expect(t.running).toBe(1);
		}
		expect(t.maxRunning).toBe(1);
		expect(sequencesOf(t.executions)).toEqual(range(1, 20));
	});

	test('Parallel Executions 3: at most three at once, started in order', async () => {
		const id = await createSession();
		const t = await listen(id, { options: { parallelExecutions: 3 } }, { autoFinish: false });
		void sandbox.sendFinals(id, { count: 12 });
		await waitFor(() => (t.emits === 3 ? true : undefined), 10_000, 'three executions');
		await sleep(200);
		expect(t.emits).toBe(3);
		while (t.emits < 12) {
			t.finish(1);
			await sleep(5);
		}
		expect(t.maxRunning).toBe(3);
		expect(sequencesOf(t.executions)).toEqual(range(1, 12));
	});
});

describe('a bounded queue: a backlog is coalesced into batch items, nothing dropped', () => {
	test('1,000 finals while an execution is stuck: a few batch executions, every final once and in order, counted on the ended item', async () => {
		const id = await createSession();
		const t = await listen(id, { options: { maxQueuedItems: 10 } }, { autoFinish: false });
		const from = logLines.length;
		await sandbox.sendFinals(id, { count: 1000, endWhenDone: true });
		await waitFor(() => (t.emits === 1 ? true : undefined), 10_000, 'the first execution');
		// Every frame is in: the client logs the end once it has handed everything before it to the queue.
		await waitFor(() => (logLines.slice(from).some((l) => l.includes('session ended')) ? true : undefined), 10_000, 'the end');
		const finishAll = setInterval(() => t.finish(), 5);
		try {
			await waitFor(() => (t.executions.at(-1)?.event === 'session.ended' ? true : undefined), 20_000, 'the ended item');
		} finally {
			clearInterval(finishAll);
		}
		const sequences = sequencesOf(t.executions);
		expect(sequences).toEqual(range(1, 1000));
		expect(t.executions.length).toBeLessThan(40);
		const batches = t.executions.filter((e) => e.event === 'session.batch');
		expect(batches.length).toBeGreaterThan(0);
		expect(batches.every((b) => b.reason === 'backlog' && (b.itemCount as number) <= 500)).toBe(true);
		const ended = t.executions.at(-1) as { stream: { coalesced: number; backlogBatches: number } };
		const singles = t.executions.filter((e) => e.event === 'transcript.final').length;
		expect(ended.stream.coalesced).toBe(1000 - singles);
		expect(ended.stream.backlogBatches).toBe(batches.length);
	});
});

describe('after the bound was passed, the queue catches up in batches until it has drained', () => {
	/** A queue whose executions end only when the test says so; `started` is what each one held. */
	function queueOf(maxQueued: number) {
		const started: number[][] = [];
		const ends: (() => void)[] = [];
		const logs: string[] = [];
		const queue = new ExecutionQueue({
			clock: systemClock,
			concurrency: 1,
			maxQueued,
			start: ({ item }) => {
				const held = item.event === 'session.batch' ? (item.items as EventItem[]) : [item];
				started.push(held.map((i) => i.sequence as number));
				return new Promise<void>((resolve) => ends.push(resolve));
			},
			log: (m) => logs.push(m),
		});
		let next = 1;
		const push = (count: number) => {
			for (let k = 0; k < count; k++) queue.push({ sessionId: 's', item: { event: 'transcript.final', sequence: next++ } });
		};
		/** Ends the oldest running execution and lets the queue start the next. */
		const finish = async () => {
			ends.shift()?.();
			await new Promise((resolve) => setImmediate(resolve));
		};
		return { queue, started, logs, push, finish };
	}

	test('what waits below the bound during catch-up is coalesced too; once drained, one item per execution again', async () => {
		const q = queueOf(3);
		q.push(1); // starts at once
		q.push(4); // 4 waiting > 3: coalesced
		q.push(2); // below the bound, but the queue is catching up
		expect(q.started).toEqual([[1]]);
		await q.finish();
		expect(q.started.at(-1)).toEqual([2, 3, 4, 5, 6, 7]); // one execution for all six
		q.push(1); // arrives while the batch runs
		await q.finish();
		expect(q.started.at(-1)).toEqual([8]); // alone: nothing to coalesce it with
		await q.finish(); // it ended with nothing waiting: drained
		q.push(2);
		expect(q.started.at(-1)).toEqual([9]);
		await q.finish();
		expect(q.started.at(-1)).toEqual([10]); // a single again, not a batch
		expect(q.started.flat()).toEqual(range(1, 10));
		expect(q.queue.stats('s')).toEqual({ coalesced: 6, backlogBatches: 1 });
		expect(q.logs).toEqual([
			'more than 3 items are waiting for their executions: the backlog goes out as batch items until it has drained',
			'the backlog has drained (7 items): one item per execution again',
		]);
		q.queue.close();
	});

	test('a backlog larger than one batch goes out as full batches in order, the rest after them', async () => {
		const q = queueOf(10);
		q.push(1 + 1200);
		await q.finish();
		expect(q.started.map((s) => s.length)).toEqual([1, 500]);
		q.push(30);
		await q.finish();
		await q.finish();
		await q.finish();
		expect(q.started.map((s) => s.length)).toEqual([1, 500, 500, 230]);
		expect(q.started.flat()).toEqual(range(1, 1231));
		q.queue.close();
	});
});

describe('Emit As One Item per Batch', () => {
	test('a full batch goes at once; the rest when the session ends; then the ended item', async () => {
		const id = await createSession();
		const t = await listen(id, { emitAs: 'batch', batchSize: 3, batchSeconds: 60 });
		await sandbox.play(id, { intervalMs: 2, endWhenDone: true });
		await waitFor(() => (t.executions.at(-1)?.event === 'session.ended' ? true : undefined), 10_000, 'the end');
		const batches = t.executions.filter((e) => e.event === 'session.batch');
		expect(batches.map((b) => [b.reason, b.itemCount])).toEqual([
			['size', 3],
			['size', 3],
			['end', 2],
		]);
		expect(sequencesOf(t.executions)).toEqual(range(1, BILINGUAL_CALL.length));
		expect((batches[0].items as IDataObject[])[0]).toMatchObject({ event: 'transcript.final', speaker: 'customer', isFinal: true, translation: BILINGUAL_CALL[0].translation });
		expect(t.executions).toHaveLength(4);
	});

	test('a batch that does not fill up is emitted exactly Batch Interval after its first event (fake clock)', async () => {
		const id = await createSession();
		const clock = new FakeClock();
		// Keepalive beyond what the test moves the clock.
		const t = await listen(id, { emitAs: 'batch', batchSize: 50, batchSeconds: 10, options: { pingIntervalSeconds: 3600 } }, { clock });
		await sandbox.sendFinals(id, { count: 2 });
		// A frame after the finals that the client logs: once it is logged, both finals are in the batch.
		sandbox.sendFrame(id, { type: 'test.marker' });
		await waitFor(() => (logLines.some((l) => l.includes('unknown event type "test.marker"')) ? true : undefined), 10_000, 'the marker');
		await clock.advance(9_999);
		expect(t.emits).toBe(0);
		await clock.advance(1);
		expect(t.emits).toBe(1);
		const [batch] = t.items;
		expect(batch).toMatchObject({ event: 'session.batch', reason: 'interval', itemCount: 2, turnCount: 2 });
		expect(sequencesOf([batch])).toEqual([1, 2]);
	});
});

describe('the memory of emitted finals outlives the instance', () => {
	test('re-activation (same static data) and a restart (static data from JSON) with a replay: 0 duplicates', async () => {
		const id = await createSession();
		const staticData: IDataObject = {};
		const first = await listen(id, {}, { staticData });
		await sandbox.sendFinals(id, { count: 10 });
		await first.waitForItems(10);
		await first.close(); // e.g. n8n deactivates it after a give-up
		expect(JSON.stringify(staticData)).toContain('emitted');

		// The next connection is sent the last 6 finals again.
		sandbox.setStreamFaults(id, { replayOnReconnect: 6 });
		const second = await listen(id, {}, { staticData });
		await sandbox.sendFinals(id, { count: 2 });
		await second.waitForItems(2);
		await sleep(200);
		expect(sequencesOf(second.executions)).toEqual([11, 12]);
		await second.close();

		// A restart: what n8n saved, read back from the database.
		sandbox.setStreamFaults(id, { replayOnReconnect: 6 });
		const third = await listen(id, {}, { staticData: JSON.parse(JSON.stringify(staticData)) as IDataObject });
		await sandbox.sendFinals(id, { count: 1, endWhenDone: true });
		await waitFor(() => (third.executions.at(-1)?.event === 'session.ended' ? true : undefined), 10_000, 'the end');
		expect(sequencesOf(third.executions)).toEqual([13]);
		expect((third.executions.at(-1) as { stream: { duplicatesDropped: number } }).stream.duplicatesDropped).toBe(6);
	});

	test('a manual test neither reads nor writes the memory', async () => {
		const id = await createSession();
		const staticData: IDataObject = {};
		const active = await listen(id, {}, { staticData });
		await sandbox.sendFinals(id, { count: 1 });
		await active.waitForItems(1);
		await active.close();
		sandbox.setStreamFaults(id, { replayOnReconnect: 1 });
		const manual = track(await activateTrigger({ parameters: { sessionSource: 'existing', sessionId: id } as never, credentials: credentials(), mode: 'manual', staticData }));
		const [item] = await manual.waitForItems(1);
		expect(item).toMatchObject({ event: 'transcript.final', sequence: 1 });
	});

	test('bounded: at most N sessions, each with at most K recent identities', () => {
		const data: Record<string, unknown> = {};
		const store = new EmittedFinals(data);
		for (let s = 0; s < EMITTED_MAX_SESSIONS + 5; s++) {
			for (let q = 1; q <= EMITTED_MAX_RECENT + 50; q += 50) {
				store.record(`sess_${s}`, Array.from({ length: 50 }, (_, k) => ({ sequence: q + k, speaker: 'agent', text: 't' })), s * 1000 + q);
			}
		}
		const memory = data.emitted as Record<string, { w: number; r: unknown[] }>;
		expect(Object.keys(memory)).toHaveLength(EMITTED_MAX_SESSIONS);
		expect(Object.keys(memory)).not.toContain('sess_0'); // the least recently written went first
		expect(Object.values(memory).every((m) => m.r.length === EMITTED_MAX_RECENT && m.w === EMITTED_MAX_RECENT + 50)).toBe(true);
		const last = `sess_${EMITTED_MAX_SESSIONS + 4}`;
		expect(store.has(last, { sequence: 3, speaker: 'agent', text: 't' })).toBe(true); // below the window
		expect(store.has(last, { sequence: EMITTED_MAX_RECENT + 50, speaker: 'agent', text: 't' })).toBe(true);
		expect(store.has(last, { sequence: EMITTED_MAX_RECENT + 51, speaker: 'agent', text: 't' })).toBe(false);
		expect(store.has(last, { sequence: null, speaker: 'agent', text: 'never said' })).toBe(false);
		expect(JSON.stringify(data).length).toBeLessThan(EMITTED_MAX_SESSIONS * EMITTED_MAX_RECENT * 8);
	});
});
