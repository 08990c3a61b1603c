/**
 * The demo: the package working inside a real n8n against the Kallglot sandbox.
 * Started by scripts/demo.js (`npm run demo`); everything binds to 127.0.0.1.
 *   1. a live translated call streamed into n8n (Kallglot Trigger) and the CRM;
 *   2. the campaign loop: the campaign example creates and dials recorded AI-agent sessions, the
 *      sandbox plays each contact's outbound call (its outcome follows the dialled number: see
 *      sandbox/script.ts), its signed webhooks reach the published "Campaign results → CRM"
 *      example, and each contact's outcome arrives in the CRM.
 */
import { randomUUID } from 'crypto';
import { createServer, type IncomingMessage, type Server } from 'http';
import { readFileSync } from 'fs';
import type { AddressInfo } from 'net';
import { join } from 'path';

import { ensureN8n } from '../n8n/install';
import { startN8n, type N8nInstance } from '../n8n/harness';
import { KallglotSandbox, SANDBOX_AGENT_ID } from '../../sandbox';

const keep = process.argv.includes('--keep');
/** Between two transcript frames: a call of 8 utterances takes 7–9 s (its recordings as long). */
const CALL_INTERVAL_MS = Number(process.env.DEMO_FRAME_INTERVAL_MS ?? 350);
/** The campaign's calls start this far apart, as a dialler places them. */
const DIAL_STAGGER_MS = 1500;
/** The demo's webhook signing secret (what the Kallglot portal would show for the endpoint). */
const DEMO_WEBHOOK_SECRET = 'whsec_demo_sandbox_7c1e5b2f9a4d';
/** The results example's webhook id, replaced by a fresh one (its production URL path). */
const EXAMPLE_WEBHOOK_ID = 'd3f3f3a0-0000-4000-8000-0000000000b1';
const yellow = (s: string) => `\x1b[33m${s}\x1b[0m`;
const bold = (s: string) => `\x1b[1m${s}\x1b[0m`;
const dim = (s: string) => `\x1b[2m${s}\x1b[0m`;
const cyan = (s: string) => `\x1b[36m${s}\x1b[0m`;
const green = (s: string) => `\x1b[32m${s}\x1b[0m`;

interface CrmRecord {
	method: string;
	path: string;
	body: Record<string, unknown>;
}

/** A stand-in CRM: records what the workflow's HTTP Request nodes send it. */
function startCrm(onRecord: (record: CrmRecord) => void): Promise<Server> {
	const server = createServer((req: IncomingMessage, res) => {
		let data = '';
		req.on('data', (chunk) => (data += chunk));
		req.on('end', () => {
			let body: Record<string, unknown> = {};
			try {
				body = JSON.parse(data || '{}');
			} catch {
				body = { raw: data };
			}
			onRecord({ method: req.method ?? 'GET', path: req.url ?? '/', body });
			res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true }));
		});
	});
	return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function example(file: string, replacements: Record<string, string>) {
	let text = readFileSync(join(__dirname, '..', '..', 'examples', file), 'utf8');
	for (const [from, to] of Object.entries(replacements)) text = text.split(from).join(to);
	return JSON.parse(text);
}

async function main() {
	const started: Array<() => Promise<unknown>> = [];
	let stopping = false;
	const stopAll = async (code: number) => {
		if (stopping) return;
		stopping = true;
		console.log(dim('\nStopping the demo (n8n, sandbox, CRM stand-in)…'));
		for (const stop of started.reverse()) await stop().catch(() => undefined);
		process.exit(code);
	};
	process.on('SIGINT', () => void stopAll(0));
	process.on('SIGTERM', () => void stopAll(0));
	// A step interrupted by Ctrl-C fails as its server stops: stopAll ends the process, not that error.
	await demo().catch((error: unknown) => (stopping ? new Promise<never>(() => undefined) : Promise.reject(error)));

	async function demo(): Promise<void> {
		const sandbox = await KallglotSandbox.start({ port: 0 });
		started.push(() => sandbox.close());
		console.log(`${bold('Kallglot sandbox')}  ${sandbox.baseUrl}  ${dim(`(API key ${sandbox.apiKey})`)}`);

		let summaryReceived: () => void = () => undefined;
		const summary = new Promise<void>((resolve) => (summaryReceived = resolve));
		const contacts = new Map<string, Record<string, unknown>>();
		let outcomesReceived: () => void = () => undefined;
		const outcomes = new Promise<void>((resolve) => (outcomesReceived = resolve));
		const crm = await startCrm(({ method, path, body }) => {
			const contact = /^\/api\/contacts\/([^/?]+)$/.exec(path);
			if (method === 'PATCH' && contact !== null) {
				const id = decodeURIComponent(contact[1]);
				const record = { ...contacts.get(id), ...body };
				contacts.set(id, record);
				if (body.call_status !== undefined) {
					console.log(`  ${bold(id)}  call ended after ${String(body.duration_seconds)} s (${String(body.end_reason)})`);
				}
				if (body.summary !== undefined) {
					const recordings = (body.recordings as Array<Record<string, unknown>> | undefined) ?? [];
					const keywords = (body.keywords as string[] | undefined)?.join(', ') ?? '—';
					// The sandbox's summaries of its campaign calls open with the outcome ("Booked: …").
					const summary = String(body.summary);
					const colon = summary.indexOf(': ');
					const [outcome, rest] = colon > 0 && colon < 20 ? [summary.slice(0, colon), summary.slice(colon + 2)] : ['outcome', summary];
					console.log(`  ${bold(id)}  ${green(outcome)}: ${rest}`);
					console.log(dim(`        sentiment ${String(body.sentiment)} (${String(body.sentiment_score)}) · keywords ${keywords}`));
					const files = recordings.map((r) => `${String(r.channel)} ${String(r.duration_seconds)} s`);
					const urls = recordings.map((r) => String(r.download_url));
					console.log(dim(`        recordings: ${files.join(', ') || 'none'}  ${urls.join(' ')}`));
					if ([...contacts.values()].filter((c) => c.summary !== undefined).length >= 3) outcomesReceived();
				}
				return;
			}
			if (path.endsWith('/call-attempts')) {
				console.log(`  ${bold(String(body.contact_id))}  ${String(body.status)} ${dim(String(body.session_id))}`);
				return;
			}
			if (path.endsWith('/activities')) {
				const translation = body.translation ? `\n      ${green('→')} ${body.translation as string}` : '';
				console.log(`  ${cyan(`[${body.speaker as string} · ${body.language as string}]`)} ${body.text as string}${translation}`);
			} else if (path.endsWith('/notes')) {
				console.log(`\n${bold('CRM received a summary note')} for ${body.session_id as string} (${body.turns as number} turns):`);
				console.log(dim(String(body.note).replace(/^/gm, '    ')));
				summaryReceived();
			}
		});
		started.push(() => new Promise((resolve) => crm.close(resolve)));
		const crmUrl = `http://127.0.0.1:${(crm.address() as AddressInfo).port}/api`;

		console.log(`${bold('n8n')}  preparing n8n 2.8.4 (installed into a cache the first time: 10–15 minutes, 2.3 GB; then seconds)…`);
		const install = await ensureN8n({ version: '2.8.4' });
		// Registered before it is up: n8n runs in its own process group, so Ctrl-C during its start-up
		// reaches it only through this stop.
		const starting = startN8n({ install, name: 'demo', logLevel: 'info' });
		started.push(async () => (await starting).stop());
		const n8n: N8nInstance = await starting;
		await n8n.ensureOwner();
		console.log(`${bold('n8n')}  ${n8n.baseUrl}  with n8n-nodes-kallglot loaded  ${dim(`(log: ${n8n.logFile})`)}`);

		const credential = await n8n.createCredential('kallglotApi', { apiKey: sandbox.apiKey, baseUrl: sandbox.baseUrl }, { name: 'Kallglot sandbox' });
		const test = await n8n.testCredential(credential.id);
		console.log(`${bold('Credential')}  "Kallglot sandbox" created, test: ${test.status}`);

		const signing = await n8n.createCredential(
			'kallglotWebhookApi',
			{ signingSecret: DEMO_WEBHOOK_SECRET, previousSigningSecret: '' },
			{ name: 'Kallglot webhook (demo)', via: 'rest' },
		);
		const webhookId = randomUUID();
		const replacements = {
			KALLGLOT_CREDENTIAL_ID: credential.id,
			KALLGLOT_WEBHOOK_CREDENTIAL_ID: String(signing.id),
			[EXAMPLE_WEBHOOK_ID]: webhookId,
			'https://crm.example.com/api': crmUrl,
			KALLGLOT_AGENT_ID: SANDBOX_AGENT_ID,
		};
		const live = await n8n.importWorkflow(example('live-translated-call-to-crm.json', replacements));
		const campaign = await n8n.importWorkflow(example('outbound-ai-agent-campaign.json', replacements));
		const results = await n8n.importWorkflow(example('campaign-results-to-crm.json', replacements));
		console.log(`${bold('Workflows')}  imported "Live translated call → CRM", "Scheduled outbound AI-agent campaign" and "Campaign results → CRM"`);

		const sessionsBefore = new Set(sandbox.sessions.keys());
		await n8n.activate(live.id);
		const sessionId = await waitFor(() => [...sandbox.sessions.keys()].find((id) => !sessionsBefore.has(id) && sandbox.openStreamCount(id) > 0));
		console.log(`${bold('Trigger')}  published; listening to ${sessionId}\n`);
		console.log(bold('Live call (what reaches n8n and the CRM, utterance by utterance):'));
		await sandbox.play(sessionId, { intervalMs: CALL_INTERVAL_MS, endWhenDone: true });
		await Promise.race([summary, new Promise((resolve) => setTimeout(resolve, 30_000))]);

		// The campaign loop: signed webhooks from the sandbox to the results workflow's production URL.
		await n8n.activate(results.id);
		const webhookUrl = `${n8n.baseUrl}/webhook/${webhookId}/webhook`;
		sandbox.configureWebhooks({ url: webhookUrl, secret: DEMO_WEBHOOK_SECRET });
		console.log(`\n${bold('Campaign results → CRM')}  published; the sandbox signs its webhooks for ${webhookUrl}`);
		console.log(dim(`  (signing secret ${DEMO_WEBHOOK_SECRET.slice(0, 10)}… in the credential "Kallglot webhook (demo)")`));
		console.log(`\n${bold('Campaign run')} (Schedule Trigger run once): Create Session (ai_agent, recorded) + Dial per contact`);
		const dialedBefore = new Set([...sandbox.sessions.values()].filter((s) => s.call !== null).map((s) => s.id));
		const run = await n8n.runWorkflow(campaign.id, { triggerNode: 'Weekdays at 10:00' });
		if (run.status !== 'success') throw new Error(`the campaign run ended with status ${run.status}`);
		const dialed = [...sandbox.sessions.values()].filter((s) => s.call !== null && !dialedBefore.has(s.id));

		console.log(`\n${bold('The sandbox answers the calls')}; the AI agent talks with each contact, then post-call webhooks flow:`);
		const calls = dialed.map(async (session, index) => {
			await new Promise((resolve) => setTimeout(resolve, index * DIAL_STAGGER_MS));
			const metadata = (session.metadata as Record<string, unknown> | null) ?? {};
			console.log(`  ${bold(String(metadata.contact_id))}  ${yellow('on the phone')} with ${String(metadata.contact_name)} ${dim(`${session.call?.to ?? ''} · ${session.id}`)}`);
			await sandbox.play(session.id, { intervalMs: CALL_INTERVAL_MS, waitForListener: false, endWhenDone: true });
		});
		await Promise.all(calls);
		const arrived = await Promise.race([outcomes.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 120_000))]);
		await sandbox.webhooksIdle();
		const deliveries = sandbox.webhookDeliveries;
		console.log(
			`\n${bold(arrived ? 'Every contact’s outcome reached the CRM' : 'Not every outcome reached the CRM within 2 minutes')}: ` +
				`${deliveries.length} signed webhook deliveries, ${deliveries.filter((d) => d.outcome === 'delivered').length} acknowledged; ` +
				`${[...sandbox.postCall.analyses.values()].length} analyses, ${sandbox.creditsUsed} credits used.`,
		);
		if (!arrived) console.log(dim(`  n8n log: ${n8n.logFile}`));

		console.log(`\n${bold('Open the editor:')} ${n8n.baseUrl}/workflow/${live.id}   (campaign: ${n8n.baseUrl}/workflow/${campaign.id}, results: ${n8n.baseUrl}/workflow/${results.id})`);
		console.log(`${bold('Login:')} ${n8n.owner.email} / ${n8n.owner.password}`);
		if (!keep) {
			console.log(dim('Run with --keep (npm run demo -- --keep) to keep n8n and the sandbox running.'));
			await stopAll(arrived ? 0 : 1);
			return;
		}
		console.log(dim('Everything keeps running; Ctrl-C stops it. The trigger is already listening to the next session.'));
	}
}

async function waitFor<T>(check: () => T | undefined, timeoutMs = 60_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = check();
		if (value !== undefined) return value;
		if (Date.now() > deadline) throw new Error('timed out waiting for the trigger to connect');
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
