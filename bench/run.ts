/**
 * `npm run bench` (`-- --quick` for a run under two minutes): five parts, each figure a ratio
 * measured in one run, printed as a table and written to test-artifacts/bench/.
 *   1–3  the stream against its floor (bench/stream.ts)
 *   4    the trigger against n8n's Webhook node in a real n8n (bench/n8n.ts; needs `npm run build`
 *        and the cached n8n install — it is skipped with a note otherwise, never installed here)
 *   5    campaigns against the rate limit: fixed window and token bucket at 5, 50, 500 req/s, two
 *        executions on one key, the pacer alone on a simulated clock, and a Stop (bench/campaign.ts)
 *   6    Translate Audio: decode CPU, peak memory, wall time at real-time pace (bench/audio.ts)
 * `--only=1,2,5` runs some parts; in part 5, `--limits=500` and `--models=fixed-window` run only those
 * campaigns (the no-limit floor is always measured). Every process a part starts is stopped by it.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { audioPart } from './audio';
import { campaign, stoppedCampaign, type CampaignResult } from './campaign';
import { simulate } from '../test/helpers/pacingSim';
import { streamParts } from './stream';
import { round } from './util';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',').map(Number);
const wanted = (part: number) => !only || only.includes(part);
const listArg = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(`--${name}=`.length).split(',');
const onlyLimits = listArg('limits')?.map(Number);
const onlyModels = listArg('models');
const REPO = join(__dirname, '..');

type Row = [part: string, figure: string, value: string, goal: string, verdict: string];

const fmt = (v: unknown, unit = '') => (v === null || v === undefined ? 'n/a' : `${typeof v === 'number' ? v.toLocaleString('en-US') : v}${unit}`);
const verdict = (ok: boolean | null) => (ok === null ? '' : ok ? 'met' : 'NOT met');

async function part4(): Promise<{ result?: unknown; skipped?: string }> {
	// Imported here: the harness is only needed (and only loadable) when n8n is there.
	const { cacheRoot } = await import('../scripts/n8n/install');
	const { assertDistBuilt } = await import('../scripts/n8n/harness');
	const version = process.env.E2E_N8N_VERSION ?? '2.8.4';
	if (!existsSync(join(cacheRoot(), `n8n-${version}`))) {
		return { skipped: `n8n ${version} is not installed in ${cacheRoot()} (node scripts/n8n/install.js ${version})` };
	}
	try {
		assertDistBuilt(REPO);
	} catch (error) {
		return { skipped: (error as Error).message };
	}
	const { realN8n } = await import('./n8n');
	return { result: await realN8n(quick) };
}

async function main() {
	const started = Date.now();
	const machine = {
		cores: cpus().length,
		cpu: cpus()[0]?.model,
		node: process.version,
		n8n: process.env.E2E_N8N_VERSION ?? '2.8.4',
		date: new Date().toISOString(),
		loadAverageAtStart: loadavg().map((l) => Number(l.toFixed(2))),
		quick,
	};
	const results: Record<string, any> = { machine };
	const rows: Row[] = [];

	if (wanted(1) || wanted(2) || wanted(3)) {
		const { part1, part2, part3 } = await streamParts(quick, wanted);
		Object.assign(results, { part1, part2, part3 });
		if (part1) {
			const e = part1.eventsPerSecond;
			rows.push(
				['1 ingest', 'floor: bare ws + JSON.parse', fmt(e.floor, ' ev/s'), '', ''],
				['1 ingest', 'stream client ÷ floor (events/s)', `${part1.ratioToFloor.client}× (${fmt(e.client, ' ev/s')})`, '≥ 0.9×', verdict(part1.ratioToFloor.client >= 0.9)],
				['1 ingest', 'trigger listener ÷ floor (events/s)', `${part1.ratioToFloor.listener}× (${fmt(e.listener, ' ev/s')})`, '≥ 0.9×', verdict(part1.ratioToFloor.listener >= 0.9)],
			);
		}
		if (part2) {
			rows.push(
				['2 latency', `send → callback at ${part2.rate}/s (${part2.rounds} rounds), floor p50 / p99`, `${part2.p50Ms.floor} / ${part2.p99Ms.floor} ms`, '', ''],
				['2 latency', 'stream client p50 / p99', `${part2.p50Ms.client} / ${part2.p99Ms.client} ms`, '', ''],
				['2 latency', 'listener p99 ÷ floor p99', `${part2.listenerP99ToFloor}× (p50 ${part2.p50Ms.listener}, p99 ${part2.p99Ms.listener} ms)`, '≤ 2×', verdict(part2.listenerP99ToFloor <= 2)],
			);
		}
		if (part3) {
			rows.push(
				['3 1,000 streams', 'floor: RSS added / loop lag p99 / latency p99', `${part3.floor.rssAddedMB} MB / ${part3.floor.lagP99Ms} ms / ${part3.floor.latencyP99Ms} ms`, '', ''],
				['3 1,000 streams', 'listener: RSS added', `${part3.listener.rssAddedMB} MB (${(part3.listener.rssAddedMB / part3.floor.rssAddedMB).toFixed(1)}× floor)`, '< 64 MB', verdict(part3.listener.rssAddedMB < 64)],
				['3 1,000 streams', 'listener: event-loop lag p99', `${part3.listener.lagP99Ms} ms`, '< 20 ms', verdict(part3.listener.lagP99Ms < 20)],
				['3 1,000 streams', 'listener: latency p99 (delivered)', `${part3.listener.latencyP99Ms} ms (${part3.listener.delivered}/${part3.listener.expected})`, '', ''],
			);
		}
	}

	if (wanted(5)) {
		// Contacts per limit: 20 s of ideal time at 5 and 50 req/s (10 s with --quick), 4 s at 500.
		const sizes: Record<number, number> = quick ? { 5: 25, 50: 250 } : { 5: 50, 50: 500, 500: 1000 };
		const limits = Object.keys(sizes)
			.map(Number)
			.filter((l) => !onlyLimits || onlyLimits.includes(l));
		const models = (['fixed-window', 'token-bucket'] as const).filter((m) => !onlyModels || onlyModels.includes(m));
		const everything = !onlyLimits && !onlyModels;
		const part5: Record<string, unknown> = {};
		// The machine's own floor: the same campaign with no limit, in requests per second, the better
		// of two runs after a warm-up one (the first campaigns in the process also pay for loading and
		// JIT: a 50-contact warm-up left the next run at half its speed).
		await campaign(quick ? 100 : 300, 1, 'none');
		const floorRuns = [await campaign(quick ? 100 : 300, 1, 'none'), await campaign(quick ? 100 : 300, 1, 'none')];
		const floor = floorRuns.reduce((a, b) => (b.wallSeconds < a.wallSeconds ? b : a));
		const floorPerSecond = round(floor.billableRequests / floor.wallSeconds, 0) as number;
		part5.floor = { ...floor, requestsPerSecond: floorPerSecond };
		rows.push(['5 campaign', `no limit (this machine's floor, ${floor.contacts} contacts)`, `${floorPerSecond} req/s (load ${floor.load.join(' → ')})`, '', '']);
		const row = (label: string, r: CampaignResult, goal: number) => {
			// When the limit is above what this machine can send, the floor bounds the figure, not the pacer.
			const bound = Math.max(r.idealSeconds, r.billableRequests / floorPerSecond);
			const ok = r.failures + r.duplicateSessions + r.duplicateDials === 0 && r.ratioToIdeal <= goal;
			rows.push([
				'5 campaign',
				label,
				`${r.ratioToIdeal}× (${r.wallSeconds} s, ideal ${r.idealSeconds} s; ${r.shareOfLimit}× the limit; ÷ machine floor ${round(r.wallSeconds / bound, 2)}×; load ${r.load.join(' → ')})`,
				`≤ ${goal}×`,
				verdict(ok),
			]);
			rows.push(['5 campaign', '  failures / dup. sessions / dup. dials / 429s', `${r.failures} / ${r.duplicateSessions} / ${r.duplicateDials} / ${r.rateLimited}`, '0 / 0 / 0 / few', verdict(ok)]);
			if (r.executions > 1) {
				rows.push(['5 campaign', '  most attempts for one request', String(r.maxAttempts), '', '']);
			}
		};
		for (const model of models) {
			for (const limit of limits) {
				if (quick && model === 'token-bucket' && limit === 5) continue;
				const r = await campaign(sizes[limit], limit, model);
				part5[`${model}@${limit}`] = r;
				row(`${model} ${limit} req/s, ${r.contacts} contacts`, r, 1.15);
			}
		}
		// Two at once: at 5 req/s the window's last request is the one they could race for or both leave.
		for (const concurrentLimit of limits.filter((l) => l <= 50)) {
			for (const model of quick ? models.filter((m) => m === 'fixed-window') : models) {
				const r = await campaign(sizes[concurrentLimit] / 2, concurrentLimit, model, 2);
				part5[`two executions ${model}@${concurrentLimit}`] = r;
				row(`two executions at once, ${model} ${concurrentLimit} req/s, ${r.contacts} contacts each`, r, round(1 / 0.9, 2) as number);
			}
		}
		// A second campaign started while the first is mid-window: its 429s are waited out, never failed.
		for (const concurrentLimit of limits.filter((l) => l <= 50)) {
			for (const model of quick ? models.filter((m) => m === 'fixed-window') : models) {
				const r = await campaign(sizes[concurrentLimit] / 2, concurrentLimit, model, 2, 500);
				part5[`second execution 0.5 s later ${model}@${concurrentLimit}`] = r;
				row(`second execution started 0.5 s later, ${model} ${concurrentLimit} req/s, ${r.contacts} contacts each`, r, round(1 / 0.9, 2) as number);
			}
		}
		// The pacer alone, on a simulated clock with the sandbox's limiters (no CPU in the way).
		const simulated: string[] = [];
		for (const model of models) {
			for (const limit of [5, 50, 500]) {
				const one = simulate({ model, limit, requests: Math.max(60, limit * 8) });
				const two = simulate({ model, limit, requests: Math.max(60, limit * 8), clients: 2 });
				simulated.push(`${model} ${limit}: ${one.ratioToIdeal}× (${one.refused} × 429), two ${two.ratioToIdeal}× (${two.refused} × 429)`);
			}
		}
		part5.simulated = simulated;
		rows.push(['5 campaign', 'pacer alone, simulated clock (one / two executions)', simulated.join('; '), '', '']);
		if (everything) {
			const stop = await stoppedCampaign(40, 5, 15);
			part5.stop = stop;
			rows.push([
				'5 campaign',
				`Stop during a campaign at 5 req/s (after ${stop.sentBeforeStop} requests)`,
				`${stop.sentAfterStop} requests after the stop; stop → last request ${stop.stopToLastRequestMs} ms; stop → end ${stop.stopToEndMs} ms`,
				'0 after',
				verdict(stop.sentAfterStop === 0),
			]);
		}
		results.part5 = part5;
	}

	if (wanted(6)) {
		const percent = (fraction: number | null) => (fraction === null ? 'not measured' : `${(fraction * 100).toFixed(2)} %`);
		const r = await audioPart(quick);
		results.part6 = r;
		const c = r.cpuFractionOfDuration;
		const m = r.peakRssAdded;
		const t = r.realtime;
		rows.push(
			['6 audio', 'decode+resample+μ-law CPU ÷ duration: 60 s 44.1 kHz stereo WAV', percent(c.wav44k1Stereo60s), '< 2 %', verdict(c.wav44k1Stereo60s !== null && c.wav44k1Stereo60s < 0.02)],
			['6 audio', 'same for a 60 s 128 kbit/s MP3', percent(c.mp3128k60s), '< 2 %', verdict(c.mp3128k60s !== null && c.mp3128k60s < 0.02)],
			['6 audio', `peak RSS added, ${m.minutes}-min 48 kHz stereo WAV (input ${m.inputMB} MB)`, `${m.addedMB} MB`, '< 64 MB', verdict(m.addedMB !== null && m.addedMB < 64)],
			['6 audio', `Translate Audio wall ÷ audio (${t.audioSeconds} s, quiet period ${t.quietSeconds} s)`, `${t.wallToAudio}× (without the quiet period ${t.wallMinusQuietToAudio}×)`, '≤ 1.05× + quiet', verdict(t.wallMinusQuietToAudio !== null && t.wallMinusQuietToAudio <= 1.05)],
		);
	}

	if (wanted(4)) {
		const { result, skipped } = await part4();
		if (skipped) {
			results.part4 = { skipped };
			rows.push(['4 real n8n', 'skipped', skipped, '', '']);
		} else {
			const r = result as Awaited<ReturnType<typeof import('./n8n').realN8n>>;
			results.part4 = r;
			const s = r.steady;
			const p = r.executionsPer100Utterances;
			rows.push(
				['4 real n8n', `event → execution start at ${s.rate}/s: trigger p50 / p99`, `${s.trigger.p50Ms} / ${s.trigger.p99Ms} ms`, '', ''],
				['4 real n8n', 'Webhook node p50 / p99', `${s.webhook.p50Ms} / ${s.webhook.p99Ms} ms`, '', ''],
				['4 real n8n', 'trigger p99 ÷ Webhook node p99', `${fmt(r.triggerLatencyToWebhook.p99, '×')} (p50 ${fmt(r.triggerLatencyToWebhook.p50, '×')})`, '≤ 1×', verdict(r.triggerLatencyToWebhook.p99 !== null ? r.triggerLatencyToWebhook.p99 <= 1 : null)],
				['4 real n8n', 'highest sustained executions/s, Webhook node', `${r.sustainedPerSecond.webhook}/s`, '', ''],
				...Object.entries(r.throughputToWebhook).map(([key, value]): Row => [
					'4 real n8n',
					`${key} sustained ÷ Webhook node's`,
					`${fmt(value, '×')} (${r.sustainedPerSecond[key]}/s${s[key] ? `; p99 at ${s.rate}/s ${s[key].p99Ms} ms` : ''})`,
					key === 'triggerParallel' ? '≥ 1×' : '',
					key === 'triggerParallel' ? verdict(value !== null && value >= 1) : '',
				]),
				['4 real n8n', 'executions per 100 utterances: per event / per batch / per session', `${p.event} / ${typeof p.batch === 'number' ? p.batch : 'n/a'} / ${p.session}`, '', ''],
			);
		}
	}

	results.seconds = Math.round((Date.now() - started) / 1000);
	const dir = join(REPO, 'test-artifacts', 'bench');
	mkdirSync(dir, { recursive: true });
	const file = join(dir, `bench-${machine.date.replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`);
	writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);

	const widths = [0, 1, 2, 3, 4].map((i) => Math.max(...rows.map((r) => r[i].length), ['part', 'figure', 'value', 'goal', ''][i].length));
	const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
	console.log(`\n${machine.cores} cores (${machine.cpu}), Node ${machine.node}, n8n ${machine.n8n}, load ${machine.loadAverageAtStart.join(' ')}, ${machine.date}${quick ? ', --quick' : ''}`);
	console.log(line(['part', 'figure', 'value', 'goal', '']));
	console.log(widths.map((w) => '-'.repeat(w)).join('  '));
	for (const r of rows) console.log(line(r));
	for (const [key, label] of Object.entries((results.part4?.ways as Record<string, string> | undefined) ?? {})) console.log(`${key}: ${label}`);
	for (const note of (results.part4?.notes as string[] | undefined) ?? []) console.log(`note: ${note}`);
	console.log(`\n${results.seconds} s; figures in ${file}`);
}

main().then(
	() => process.exit(0),
	(error) => {
		console.error(error);
		process.exit(1);
	},
);
