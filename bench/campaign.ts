/**
 * Part 5 of `npm run bench`: outbound campaigns against Kallglot's rate limit. Each contact goes
 * through Create Session then Dial (2 billable requests) on n8n-core's real WorkflowExecute
 * (test/helpers/campaign.ts), against the sandbox limited to `limit` requests/s by a fixed window
 * or a token bucket. Figures: wall time ÷ the ideal (billable requests ÷ limit), failures,
 * duplicates and 429s; two executions at once on one key; and what is sent after a Stop.
 */
import { loadavg } from 'node:os';
import type { IRun } from 'n8n-workflow';
import { contactIds, dialItems, startCampaign } from '../test/helpers/campaign';
import { KallglotSandbox } from '../sandbox';
// The .js suffix: without it tsx would resolve Kallglot.node.json (the codex) first.
import { Kallglot } from '../nodes/Kallglot/Kallglot.node.js';
import type { RateLimitModel } from '../sandbox';
import { round, sleep } from './util';

export interface CampaignResult {
	model: RateLimitModel | 'none';
	executions: number;
	contacts: number;
	billableRequests: number;
	limitPerSecond: number;
	idealSeconds: number;
	wallSeconds: number;
	/** wall ÷ ideal */
	ratioToIdeal: number;
	/** Billable requests answered per second ÷ the limit. */
	shareOfLimit: number;
	failures: number;
	duplicateSessions: number;
	duplicateDials: number;
	/** 429 answers the sandbox sent (each one a wait the node had to make). */
	rateLimited: number;
	/** The most requests one billable call took (one Idempotency-Key): 1 + its 429s and retries. */
	maxAttempts: number;
	/** ms between the starts of successive executions (0: started together). */
	lateStartMs: number;

	/** The machine's 1-minute load average at the start and the end of the run. */
	load: [start: number, end: number];
}

const isBillable = (r: { method: string; path: string }) => r.method === 'POST' && (r.path === '/v1/sessions' || r.path.endsWith('/dial'));

function tally(sandbox: KallglotSandbox, runs: IRun[], prefixes: string[], contacts: number) {
	const failures = runs.reduce(
		(n, run) => n + contacts - dialItems(run).filter((item) => !item.json.error && (item.json as { call?: unknown }).call).length,
		0,
	);
	const wanted = new Set(prefixes.flatMap((p) => contactIds(p, contacts)));
	const perContact = new Map<string, number>();
	for (const session of sandbox.sessions.values()) {
		const id = String((session.metadata as Record<string, unknown> | undefined)?.contact_id);
		if (wanted.has(id)) perContact.set(id, (perContact.get(id) ?? 0) + 1);
	}
	// A dial is placed once per distinct key that got a 200; a replayed key is not a second call.
	const dialKeys = new Map<string, Set<string>>();
	for (const r of sandbox.requests) {
		if (r.method !== 'POST' || !r.path.endsWith('/dial') || r.status !== 200) continue;
		const keys = dialKeys.get(r.path) ?? new Set<string>();
		keys.add(r.headers['idempotency-key'] ?? r.requestId);
		dialKeys.set(r.path, keys);
	}
	const attempts = new Map<string, number>();
	for (const r of sandbox.requests.filter(isBillable)) {
		const key = r.headers['idempotency-key'] ?? r.requestId;
		attempts.set(key, (attempts.get(key) ?? 0) + 1);
	}
	return {
		failures,
		maxAttempts: Math.max(0, ...attempts.values()),
		duplicateSessions: [...perContact.values()].reduce((n, count) => n + count - 1, 0),
		duplicateDials: [...dialKeys.values()].reduce((n, keys) => n + keys.size - 1, 0),
		rateLimited: sandbox.requests.filter((r) => r.status === 429).length,
	};
}

/**
 * `executions` campaigns of `contacts` contacts each, started together on one API key, against
 * `limitPerSecond` (per 1 s window, or a bucket of that many refilled per second); model 'none'
 * runs without a limit (the machine's own floor). `lateStartMs`: each execution starts this long
 * after the one before (a second campaign started while the first is mid-window).
 */
export async function campaign(
	contacts: number,
	limitPerSecond: number,
	model: RateLimitModel | 'none' = 'fixed-window',
	executions = 1,
	lateStartMs = 0,
): Promise<CampaignResult> {
	const sandbox = await KallglotSandbox.start({
		rateLimit: model === 'none' ? null : { limit: limitPerSecond, windowMs: 1000, model },
	});
	try {
		const credentials = { apiKey: sandbox.apiKey, baseUrl: sandbox.baseUrl };
		const prefixes = Array.from({ length: executions }, (_, i) => `E${i}`);
		const loadAtStart = round(loadavg()[0], 1) as number;
		const started = performance.now();
		const runs = await Promise.all(
			prefixes.map(async (prefix, i) => {
				if (i > 0 && lateStartMs > 0) await sleep(i * lateStartMs);
				return startCampaign(new Kallglot(), credentials, contacts, prefix).done;
			}),
		);
		const wallSeconds = (performance.now() - started) / 1000;
		const billable = 2 * contacts * executions;
		const idealSeconds = billable / limitPerSecond;
		return {
			model,
			executions,
			contacts,
			billableRequests: billable,
			limitPerSecond,
			idealSeconds,
			wallSeconds: round(wallSeconds, 2) as number,
			ratioToIdeal: round(wallSeconds / idealSeconds, 2) as number,
			shareOfLimit: round(billable / wallSeconds / limitPerSecond, 2) as number,
			lateStartMs,
			...tally(sandbox, runs, prefixes, contacts),
			load: [loadAtStart, round(loadavg()[0], 1) as number],
		};
	} finally {
		await sandbox.close();
	}
}

export interface StopResult {
	limitPerSecond: number;
	contacts: number;
	/** Billable requests the sandbox had received when Stop was pressed. */
	sentBeforeStop: number;
	/** Requests that reached the sandbox after the stop (the goal: 0). */
	sentAfterStop: number;
	/** ms from the stop to the last request the sandbox received (negative: the last came before). */
	stopToLastRequestMs: number;
	/** ms from the stop to the end of the execution. */
	stopToEndMs: number;
	/** What the stopped node said. */
	message: string | undefined;
}

/** Starts a campaign, stops it (as n8n's Stop does) after `stopAfter` billable requests. */
export async function stoppedCampaign(contacts: number, limitPerSecond: number, stopAfter: number): Promise<StopResult> {
	const sandbox = await KallglotSandbox.start({ rateLimit: { limit: limitPerSecond, windowMs: 1000 } });
	try {
		const run = startCampaign(new Kallglot(), { apiKey: sandbox.apiKey, baseUrl: sandbox.baseUrl }, contacts, 'S');
		while (sandbox.requests.filter(isBillable).length < stopAfter) await sleep(2);
		const stopAt = Date.now();
		const sentBeforeStop = sandbox.requests.filter(isBillable).length;
		run.cancel();
		const result = await run.done;
		const ended = Date.now();
		// Anything still on its way arrives within a moment; a request sent after the stop would show here.
		await sleep(500);
		const after = sandbox.requests.filter((r) => r.at > stopAt);
		const last = Math.max(...sandbox.requests.map((r) => r.at));
		const runData = result.data.resultData.runData;
		const message = ['Dial', 'Create Session'].map((name) => runData[name]?.[0]?.error?.message).find(Boolean);
		return {
			limitPerSecond,
			contacts,
			sentBeforeStop,
			sentAfterStop: after.length,
			stopToLastRequestMs: last - stopAt,
			stopToEndMs: ended - stopAt,
			message,
		};
	} finally {
		await sandbox.close();
	}
}
