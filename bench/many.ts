/**
 * Part 3's receiver process: opens `count` receivers of one kind against the sender, in this one
 * process, and reports what they cost it. Run fresh per kind (forked by bench/stream.ts), so the
 * RSS it adds is measured from a clean baseline.
 *   argv: kind url count
 * IPC: → { type: 'ready', rssBeforeBytes }  ← { cmd: 'measure' }  ← { cmd: 'report' } → { type: 'report', … }
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { openReceiver, type Receiver, type ReceiverKind } from './receivers';
import { nowUs } from './util';

const [kind, url, countText] = process.argv.slice(2) as [ReceiverKind, string, string];
const count = Number(countText);
const recvAtUs: number[] = [];
const receivers: Receiver[] = [];
const lag = monitorEventLoopDelay({ resolution: 10 });

function settledRss(): number {
	global.gc?.();
	global.gc?.();
	return process.memoryUsage().rss;
}

async function main() {
	const rssBeforeBytes = settledRss();
	const onFinal = (seq: number) => {
		recvAtUs[seq] = nowUs();
	};
	// In batches, so the sender's accept backlog never overflows.
	for (let i = 0; i < count; i += 100) {
		const batch = Math.min(100, count - i);
		receivers.push(...(await Promise.all(Array.from({ length: batch }, () => openReceiver(kind, url, onFinal)))));
	}
	process.send?.({ type: 'ready', rssBeforeBytes, opened: receivers.length });
}

process.on('message', async (message: { cmd: string }) => {
	if (message.cmd === 'measure') {
		lag.reset();
		lag.enable();
	} else if (message.cmd === 'report') {
		lag.disable();
		const rssAfterBytes = settledRss();
		process.send?.({
			type: 'report',
			rssAfterBytes,
			lagP99Ms: lag.percentile(99) / 1e6,
			lagMaxMs: lag.max / 1e6,
			recvAtUs: Array.from(recvAtUs, (v) => v ?? 0),
		});
	} else if (message.cmd === 'stop') {
		await Promise.all(receivers.map((r) => r.close()));
		process.exit(0);
	}
});
process.on('disconnect', () => process.exit(0));

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
