/**
 * Parts 1–3 of `npm run bench`: the stream path against its floor, each figure a ratio measured
 * in one run (the machine is shared; absolute rates say little, ratios say where we stand).
 * The sender is a separate process (bench/sender.ts); receivers are bench/receivers.ts.
 */
import { openReceiver, type ReceiverKind } from './receivers';
import { forkChild, latenciesMs, median, nowUs, percentile, round, sleep, startSender, type Sender } from './util';

export interface IngestResult {
	frames: number;
	rounds: number;
	/** Median events/s per receiver. */
	eventsPerSecond: Record<ReceiverKind, number>;
	/** Median over the rounds of (receiver events/s ÷ the floor's events/s in the same round). */
	ratioToFloor: { client: number; listener: number };
}

/** One flood of `count` frames into one receiver: events/s from its first to its last delivery. */
async function flood(sender: Sender, kind: ReceiverKind, count: number): Promise<number> {
	let received = 0;
	let first = 0;
	let finish: () => void = () => undefined;
	const done = new Promise<void>((resolve) => (finish = resolve));
	let last = 0;
	const receiver = await openReceiver(kind, sender.url, () => {
		if (received++ === 0) first = nowUs();
		if (received === count) {
			last = nowUs();
			finish();
		}
	});
	try {
		global.gc?.();
		sender.send({ cmd: 'flood', count });
		await sender.next('done');
		await withTimeout(done, 120_000, `${kind} received ${received} of ${count} frames`);
	} finally {
		await receiver.close();
	}
	return ((count - 1) / (last - first)) * 1e6;
}

export async function ingest(sender: Sender, frames: number, rounds: number): Promise<IngestResult> {
	const kinds = ['floor', 'client', 'listener'] as const;
	const rates: Record<ReceiverKind, number[]> = { floor: [], client: [], listener: [] };
	const ratios = { client: [] as number[], listener: [] as number[] };
	// A warm-up flood per receiver (JIT), then rounds in which the three take turns (starting with a
	// different one each round); a ratio is taken within each round, so load drifting on the shared
	// machine hits both sides of it alike. The figure is the median of the per-round ratios.
	for (const kind of kinds) await flood(sender, kind, Math.min(frames, 20_000));
	for (let r = 0; r < rounds; r++) {
		const turn: Partial<Record<ReceiverKind, number>> = {};
		for (let i = 0; i < kinds.length; i++) {
			const kind = kinds[(i + r) % kinds.length];
			turn[kind] = await flood(sender, kind, frames);
			rates[kind].push(turn[kind]!);
		}
		ratios.client.push(turn.client! / turn.floor!);
		ratios.listener.push(turn.listener! / turn.floor!);
	}
	return {
		frames,
		rounds,
		eventsPerSecond: {
			floor: Math.round(median(rates.floor)),
			client: Math.round(median(rates.client)),
			listener: Math.round(median(rates.listener)),
		},
		ratioToFloor: {
			client: round(median(ratios.client), 3) as number,
			listener: round(median(ratios.listener), 3) as number,
		},
	};
}

export interface LatencyResult {
	rate: number;
	events: number;
	rounds: number;
	/** send → callback, ms: medians over the rounds of each round's percentile. */
	p50Ms: Record<ReceiverKind, number>;
	p99Ms: Record<ReceiverKind, number>;
	/** Median over the rounds of (listener p99 ÷ floor p99 of the same round). */
	listenerP99ToFloor: number;
	delivered: Record<ReceiverKind, number>;
}

async function paced(sender: Sender, kind: ReceiverKind, rate: number, count: number) {
	const recvAtUs = new Float64Array(count + 1);
	let received = 0;
	const receiver = await openReceiver(kind, sender.url, (seq) => {
		recvAtUs[seq] = nowUs();
		received++;
	});
	try {
		global.gc?.();
		sender.send({ cmd: 'pace', rate, count });
		const { sentAtUs } = await sender.next<{ sentAtUs: number[] }>('done', count * 10 + 30_000);
		const deadline = Date.now() + 5000;
		while (received < count && Date.now() < deadline) await sleep(10);
		const latencies = latenciesMs(sentAtUs, recvAtUs);
		return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), delivered: received };
	} finally {
		await receiver.close();
	}
}

export async function latency(sender: Sender, rate: number, rounds: number): Promise<LatencyResult> {
	const kinds = ['floor', 'client', 'listener'] as const;
	// One second of events per receiver per round, the receivers taking turns: a burst of load from
	// elsewhere on the machine spoils one round, and the medians over the rounds leave it out.
	const p50: Record<ReceiverKind, number[]> = { floor: [], client: [], listener: [] };
	const p99: Record<ReceiverKind, number[]> = { floor: [], client: [], listener: [] };
	const delivered: Record<ReceiverKind, number> = { floor: 0, client: 0, listener: 0 };
	const ratios: number[] = [];
	for (let r = 0; r < rounds; r++) {
		for (const kind of kinds) {
			const result = await paced(sender, kind, rate, rate);
			p50[kind].push(result.p50);
			p99[kind].push(result.p99);
			delivered[kind] += result.delivered;
		}
		ratios.push(p99.listener[r] / p99.floor[r]);
	}
	const med = (values: Record<ReceiverKind, number[]>) =>
		Object.fromEntries(kinds.map((k) => [k, round(median(values[k]), 3)])) as Record<ReceiverKind, number>;
	return {
		rate,
		events: rate * rounds,
		rounds,
		p50Ms: med(p50),
		p99Ms: med(p99),
		listenerP99ToFloor: round(median(ratios), 2) as number,
		delivered,
	};
}

export interface ConcurrencyFigures {
	streams: number;
	rssAddedMB: number;
	lagP99Ms: number;
	latencyP99Ms: number;
	delivered: number;
	expected: number;
}

async function concurrent(sender: Sender, kind: 'floor' | 'listener', streams: number, seconds: number): Promise<ConcurrencyFigures> {
	const child = forkChild('many.ts', [kind, sender.url, String(streams)]);
	try {
		const ready = await child.next<{ rssBeforeBytes: number; opened: number }>('ready', 120_000);
		child.send({ cmd: 'measure' });
		sender.send({ cmd: 'fanout', seconds });
		const { sentAtUs } = await sender.next<{ sentAtUs: number[] }>('done', seconds * 1000 + 60_000);
		await sleep(200);
		child.send({ cmd: 'report' });
		const report = await child.next<{ rssAfterBytes: number; lagP99Ms: number; recvAtUs: number[] }>('report');
		const latencies = latenciesMs(sentAtUs, Float64Array.from(report.recvAtUs));
		return {
			streams: ready.opened,
			rssAddedMB: round((report.rssAfterBytes - ready.rssBeforeBytes) / 1024 / 1024, 1) as number,
			lagP99Ms: round(report.lagP99Ms, 2) as number,
			latencyP99Ms: round(percentile(latencies, 99), 2) as number,
			delivered: latencies.length,
			expected: sentAtUs.length - 1,
		};
	} finally {
		await child.stop();
	}
}

export async function concurrency(sender: Sender, streams: number, seconds: number) {
	const floor = await concurrent(sender, 'floor', streams, seconds);
	const listener = await concurrent(sender, 'listener', streams, seconds);
	return { seconds, floor, listener };
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	try {
		return await Promise.race([
			promise,
			new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms))),
		]);
	} finally {
		clearTimeout(timer);
	}
}

/** Runs parts 1–3 (those `wanted`) with one sender process, stopped at the end whatever happens. */
export async function streamParts(quick: boolean, wanted: (part: number) => boolean = () => true) {
	const sender = await startSender();
	try {
		const part1 = wanted(1) ? await ingest(sender, quick ? 30_000 : 100_000, quick ? 3 : 5) : undefined;
		const part2 = wanted(2) ? await latency(sender, 1000, quick ? 3 : 10) : undefined;
		const part3 = wanted(3) ? await concurrency(sender, 1000, quick ? 6 : 20) : undefined;
		return { part1, part2, part3 };
	} finally {
		await sender.stop();
	}
}
