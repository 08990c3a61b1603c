/**
 * Stream throughput and memory, printed as figures (not asserted: timings belong here, not in tests).
 *   npm run bench
 * 1. parseServerFrame + eventIdentity alone, frames/s.
 * 2. End to end over loopback: the sandbox pushes N transcript.final frames through a real
 *    WebSocket into KallglotStreamClient (parse, dedupe, callback); frames/s and heap growth.
 */
import { KallglotStreamClient } from '../nodes/shared/stream';
import { eventIdentity, parseServerFrame } from '../nodes/shared/wire';
import { KallglotSandbox } from '../sandbox';

const FRAMES = Number(process.env.BENCH_FRAMES ?? 50_000);

function frame(sequence: number): string {
	return JSON.stringify({
		type: 'transcript.final',
		speaker: sequence % 2 ? 'customer' : 'agent',
		language: 'es',
		text: 'Hola, buenos días. Llamo para cambiar mi cita del jueves.',
		sequence,
		timestamp: new Date(0).toISOString(),
		translation: { language: 'en', text: "Hello, good morning. I'm calling to change my Thursday appointment." },
	});
}

function parseOnly() {
	const frames = Array.from({ length: FRAMES }, (_, i) => frame(i + 1));
	const start = process.hrtime.bigint();
	let ids = 0;
	for (const text of frames) {
		const parsed = parseServerFrame(text);
		if (parsed.ok && eventIdentity(parsed.event)) ids++;
	}
	const seconds = Number(process.hrtime.bigint() - start) / 1e9;
	console.log(`parse + identity:  ${FRAMES} frames in ${seconds.toFixed(3)} s = ${Math.round(FRAMES / seconds).toLocaleString()} frames/s (${ids} ids)`);
}

async function endToEnd() {
	const sandbox = await KallglotSandbox.start();
	const created = await fetch(`${sandbox.baseUrl}/sessions`, {
		method: 'POST',
		headers: { Authorization: `Bearer ${sandbox.apiKey}`, 'Content-Type': 'application/json' },
		body: JSON.stringify({ mode: 'bidirectional_translation' }),
	});
	const session = (await created.json()) as { id: string; stream: { url: string; token: string } };
	let received = 0;
	let done: () => void = () => undefined;
	const all = new Promise<void>((resolve) => (done = resolve));
	const client = new KallglotStreamClient({
		resolveEndpoint: async () => ({ kind: 'live', endpoint: session.stream }),
		onEvent: (event) => {
			if (event.type === 'transcript.final' && ++received === FRAMES) done();
		},
	});
	await client.start();
	global.gc?.();
	const heapBefore = process.memoryUsage().heapUsed;
	const start = process.hrtime.bigint();
	for (let i = 1; i <= FRAMES; i++) sandbox.sendFrame(session.id, frame(i));
	await all;
	const seconds = Number(process.hrtime.bigint() - start) / 1e9;
	global.gc?.();
	const heapAfter = process.memoryUsage().heapUsed;
	console.log(`loopback stream:   ${FRAMES} frames in ${seconds.toFixed(3)} s = ${Math.round(FRAMES / seconds).toLocaleString()} frames/s`);
	console.log(`heap growth:       ${((heapAfter - heapBefore) / 1024 / 1024).toFixed(1)} MiB after ${FRAMES} frames (dedupe window bounded at 10,000 ids)${global.gc ? '' : ' [run with --expose-gc for a settled figure]'}`);
	console.log(`client stats:      ${JSON.stringify(client.stats)}`);
	await client.close();
	await sandbox.close();
}

parseOnly();
endToEnd().catch((error) => {
	console.error(error);
	process.exit(1);
});
