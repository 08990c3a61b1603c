/**
 * Part 4 of `npm run bench`: what a builder feels in a real n8n (scripts/n8n/harness.js). The same
 * scripted transcript.final events reach one n8n two ways:
 *   - trigger: the Kallglot Trigger's stream (frames pushed by the sandbox into its session);
 *   - webhook: HTTP POSTs to n8n's own Webhook node (what a builder would wire to Kallglot webhooks).
 * Figures: event → execution start (the execution's startedAt) p50/p99 at a steady rate, the highest
 * rate of a short ramp each way sustains (every event starts an execution, latency not growing),
 * and executions per 100 utterances per emit mode. Every process started here is stopped here.
 */
import { randomUUID } from 'node:crypto';
import type { N8nInstance, WorkflowJson } from '../scripts/n8n/harness';
// The .js suffix: without it tsx would resolve KallglotTrigger.node.json (the codex) first.
import { KallglotTrigger } from '../nodes/KallglotTrigger/KallglotTrigger.node.js';
import { KallglotSandbox } from '../sandbox';
import { sandboxCredential, triggerWorkflow, waitFor, waitForListenedSession, type CredentialRef } from '../test/e2e/helpers/kallglot';
import { E2E_N8N_VERSION, startSignedInN8n, webhookNode } from '../test/e2e/helpers/n8n';
import { killGroupOnExit, percentile, round, sleep } from './util';

type Way = 'trigger' | 'webhook';

interface Step {
	rate: number;
	events: number;
	started: number;
	p50Ms: number | null;
	p99Ms: number | null;
	sustained: boolean;
	/** The step failed once and this is its second try. */
	retried?: boolean;
}

const finalFrame = (sequence: number) => ({
	type: 'transcript.final',
	speaker: sequence % 2 ? 'customer' : 'agent',
	language: 'es',
	text: 'Hola, buenos días. Llamo para cambiar mi cita del jueves.',
	sequence,
	timestamp: new Date().toISOString(),
	translation: { language: 'en', text: "Hello, good morning. I'm calling to change my Thursday appointment." },
});

/** startedAt of every execution of a workflow, by the sequence its item carries. */
async function startsBySequence(n8n: N8nInstance, workflowId: string, way: Way): Promise<Map<number, number>> {
	const starts = new Map<number, number>();
	let cursor: string | undefined;
	do {
		const q = new URLSearchParams({ workflowId, includeData: 'true', limit: '250', ...(cursor ? { cursor } : {}) });
		const page = await n8n.api<{ data: any[]; nextCursor?: string | null }>('GET', `/executions?${q}`);
		for (const execution of page.data) {
			const node = way === 'trigger' ? 'Kallglot Trigger' : 'Webhook';
			const json = execution.data?.resultData?.runData?.[node]?.[0]?.data?.main?.[0]?.[0]?.json;
			const sequence = way === 'trigger' ? json?.sequence : json?.body?.sequence;
			if (typeof sequence === 'number') starts.set(sequence, Date.parse(execution.startedAt));
		}
		cursor = page.nextCursor ?? undefined;
	} while (cursor);
	return starts;
}

class Way_ {
	private sequence = 0;
	readonly sentAt = new Map<number, number>();

	constructor(
		readonly way: Way,
		readonly n8n: N8nInstance,
		readonly workflowId: string,
		private readonly send: (sequence: number) => void,
	) {}

	/** Sends `events` at `rate`/s; resolves to the sequences sent. */
	async paced(rate: number, events: number): Promise<number[]> {
		const sent: number[] = [];
		const start = performance.now();
		while (sent.length < events) {
			const due = Math.min(events, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
			while (sent.length < due) {
				const seq = ++this.sequence;
				this.sentAt.set(seq, Date.now());
				this.send(seq);
				sent.push(seq);
			}
			await sleep(5);
		}
		return sent;
	}

	/** Waits (bounded) until every sequence started an execution; latencies in ms (in sending order) and sorted. */
	async latencies(sequences: number[], drainMs: number): Promise<{ started: number; inOrder: number[]; sorted: number[] }> {
		const deadline = Date.now() + drainMs;
		let starts = await startsBySequence(this.n8n, this.workflowId, this.way);
		while (sequences.some((s) => !starts.has(s)) && Date.now() < deadline) {
			await sleep(500);
			starts = await startsBySequence(this.n8n, this.workflowId, this.way);
		}
		const inOrder = sequences.filter((s) => starts.has(s)).map((s) => starts.get(s)! - this.sentAt.get(s)!);
		return { started: inOrder.length, inOrder, sorted: [...inOrder].sort((a, b) => a - b) };
	}
}

const sortedMedian = (values: number[]) => percentile([...values].sort((a, b) => a - b), 50);

/**
 * One ramp step. Sustained: every event started an execution, and the median latency of the step's
 * last third is within 2× (+100 ms) of its first third's (a queue that keeps growing fails this).
 */
async function step(way: Way_, rate: number, seconds: number): Promise<Step> {
	const sequences = await way.paced(rate, rate * seconds);
	const { started, inOrder, sorted } = await way.latencies(sequences, 15_000);
	const third = Math.max(1, Math.floor(inOrder.length / 3));
	const first = sortedMedian(inOrder.slice(0, third));
	const last = sortedMedian(inOrder.slice(-third));
	return {
		rate,
		events: sequences.length,
		started,
		p50Ms: round(percentile(sorted, 50), 0),
		p99Ms: round(percentile(sorted, 99), 0),
		sustained: started === sequences.length && last <= 2 * first + 100,
	};
}

function webhookWorkflow(path: string): WorkflowJson {
	return {
		name: 'bench: Webhook node',
		nodes: [
			webhookNode(path, 'POST', 'onReceived'),
			{ id: randomUUID(), name: 'No Operation', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [240, 0], parameters: {} },
		],
		connections: { Webhook: { main: [[{ node: 'No Operation', type: 'main', index: 0 }]] } },
		settings: { executionOrder: 'v1' },
	};
}

async function triggerWay(n8n: N8nInstance, sandbox: KallglotSandbox, credential: CredentialRef, parameters: Record<string, unknown>, name: string) {
	const before = new Set(sandbox.sessions.keys());
	const workflow = await n8n.importWorkflow(triggerWorkflow(credential, parameters, name));
	await n8n.activate(workflow.id);
	const sessionId = await waitForListenedSession(sandbox, before, 60_000);
	return { workflowId: String(workflow.id), sessionId };
}

export interface N8nResult {
	n8nVersion: string;
	mode: string;
	/** What each way is, as measured in this run. */
	ways: Record<string, string>;
	steady: { rate: number; events: number } & Record<string, { p50Ms: number | null; p99Ms: number | null; started: number }>;
	/** trigger (its default) ÷ webhook, p50 and p99 (goal ≤ 1). */
	triggerLatencyToWebhook: { p50: number | null; p99: number | null };
	ramp: Record<string, Step[]>;
	sustainedPerSecond: Record<string, number>;
	/** sustained executions/s ÷ the Webhook node's, per trigger way (goal ≥ 1 with parallel executions). */
	throughputToWebhook: Record<string, number | null>;
	executionsPer100Utterances: Record<string, number | string>;
	notes: string[];
}

/** Whether the built trigger has a parameter option / emit mode (the live-trigger issue adds some). */
function triggerHas(value: string): boolean {
	const properties = JSON.stringify(new KallglotTrigger().description.properties);
	return properties.includes(`"name":"${value}"`) || properties.includes(`"value":"${value}"`);
}

/** Executions of a trigger workflow after `count` finals sent at once (and the session ended). */
async function executionsFor(
	n8n: N8nInstance,
	sandbox: KallglotSandbox,
	credential: CredentialRef,
	parameters: Record<string, unknown>,
	settleMs: number,
): Promise<number> {
	const way = await triggerWay(n8n, sandbox, credential, parameters, `bench: Kallglot Trigger ${JSON.stringify(parameters)}`);
	for (let seq = 1; seq <= 100; seq++) sandbox.sendFrame(way.sessionId, finalFrame(seq));
	sandbox.endSession(way.sessionId, 'explicit_end');
	await waitFor('an execution', async () => (await n8n.listExecutions({ workflowId: way.workflowId })).length > 0, 60_000);
	// Settled: the count has not changed for `settleMs` (bounded: a minute).
	const count = async () => (await n8n.listExecutions({ workflowId: way.workflowId, limit: 250 })).length;
	let executions = await count();
	for (let stableSince = Date.now(), deadline = Date.now() + 60_000; Date.now() - stableSince < settleMs && Date.now() < deadline; ) {
		await sleep(500);
		const now = await count();
		if (now !== executions) [executions, stableSince] = [now, Date.now()];
	}
	await n8n.deactivate(way.workflowId);
	return executions;
}

export async function realN8n(quick: boolean): Promise<N8nResult> {
	const sandbox = await KallglotSandbox.start();
	let n8n: N8nInstance | undefined;
	let forget: () => void = () => undefined;
	const notes: string[] = ['Latency ends at the execution’s startedAt (ms resolution), as n8n records it.'];
	try {
		// n8n's own logging at debug level would cost the very process being measured.
		n8n = await startSignedInN8n({ name: 'bench', logLevel: 'warn' });
		const instance = n8n;
		forget = killGroupOnExit(() => (instance.running ? instance.pid : undefined));
		const credential = await sandboxCredential(n8n, sandbox);
		const parallelOption = triggerHas('parallelExecutions');

		const triggers: Array<{ key: string; label: string; options: Record<string, unknown> }> = parallelOption
			? [
					{ key: 'trigger', label: 'Kallglot Trigger, default: in order, one execution at a time', options: {} },
					{ key: 'triggerParallel', label: 'Kallglot Trigger, Parallel Executions = 16', options: { parallelExecutions: 16 } },
				]
			: [{ key: 'trigger', label: 'Kallglot Trigger as built (no Parallel Executions option: every event is emitted at once)', options: {} }];
		if (!parallelOption) notes.push('The trigger has no Parallel Executions option yet: its ordered and parallel modes could not be told apart.');

		const ways: Record<string, Way_> = {};
		const labels: Record<string, string> = {};
		for (const t of triggers) {
			const live = await triggerWay(n8n, sandbox, credential, { events: ['finals'], options: t.options }, `bench: ${t.key}`);
			ways[t.key] = new Way_('trigger', n8n, live.workflowId, (seq) => sandbox.sendFrame(live.sessionId, finalFrame(seq)));
			labels[t.key] = t.label;
		}
		const path = `bench-${randomUUID().slice(0, 8)}`;
		const hook = await n8n.importWorkflow(webhookWorkflow(path));
		await n8n.activate(hook.id);
		const hookUrl = `${n8n.baseUrl}/webhook/${path}`;
		ways.webhook = new Way_('webhook', n8n, String(hook.id), (seq) => {
			void fetch(hookUrl, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ id: `evt_${seq}`, type: 'transcript.final', data: finalFrame(seq), sequence: seq }),
			}).then((res) => res.arrayBuffer(), () => undefined);
		});
		labels.webhook = "n8n's Webhook node (POST, respond immediately)";
		const keys = Object.keys(ways);

		// Steady rate: 5 events/s, the ways one after the other.
		const rate = 5;
		const seconds = quick ? 4 : 20;
		const steady: any = { rate, events: rate * seconds };
		for (const key of keys) {
			const sequences = await ways[key].paced(rate, rate * seconds);
			const { started, sorted } = await ways[key].latencies(sequences, 20_000);
			steady[key] = { p50Ms: round(percentile(sorted, 50), 0), p99Ms: round(percentile(sorted, 99), 0), started };
		}

		// A short ramp each way; it stops at the first rate not sustained.
		const rates = quick ? [20, 80] : [10, 20, 40, 80, 160, 320];
		const ramp: Record<string, Step[]> = {};
		for (const key of keys) {
			ramp[key] = [];
			for (const r of rates) {
				let s = await step(ways[key], r, quick ? 2 : 4);
				if (!s.sustained) {
					// Once more after a pause: a burst of load from elsewhere on the machine is not the limit.
					await sleep(2000);
					s = { ...(await step(ways[key], r, quick ? 2 : 4)), retried: true };
				}
				ramp[key].push(s);
				if (!s.sustained) break;
				await sleep(1000);
			}
		}
		const sustained = Object.fromEntries(keys.map((k) => [k, Math.max(0, ...ramp[k].filter((s) => s.sustained).map((s) => s.rate))]));
		for (const key of keys) await n8n.deactivate(ways[key].workflowId);

		// Executions per 100 utterances, per emit mode.
		const per100: Record<string, number | string> = { event: await executionsFor(n8n, sandbox, credential, { events: ['finals'] }, 3000) };
		per100.session = await executionsFor(n8n, sandbox, credential, { emitAs: 'session' }, 2000);
		per100.batch = triggerHas('batch')
			? await executionsFor(n8n, sandbox, credential, { emitAs: 'batch' }, 3000)
			: 'n/a: the trigger has no batch mode yet';

		const ratio = (a: number | null, b: number | null) => (a !== null && b ? round(a / b, 2) : null);
		return {
			n8nVersion: E2E_N8N_VERSION,
			mode: 'regular (one main process)',
			ways: labels,
			steady,
			triggerLatencyToWebhook: {
				p50: ratio(steady.trigger.p50Ms, steady.webhook.p50Ms),
				p99: ratio(steady.trigger.p99Ms, steady.webhook.p99Ms),
			},
			ramp,
			sustainedPerSecond: sustained,
			throughputToWebhook: Object.fromEntries(keys.filter((k) => k !== 'webhook').map((k) => [k, ratio(sustained[k], sustained.webhook)])),
			executionsPer100Utterances: per100,
			notes,
		};
	} finally {
		await n8n?.dispose().catch(() => undefined);
		forget();
		await sandbox.close();
	}
}
