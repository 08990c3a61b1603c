/**
 * The demo: the package working inside a real n8n against the Kallglot sandbox.
 * Started by scripts/demo.js (`npm run demo`); everything binds to 127.0.0.1.
 */
import { createServer, type IncomingMessage, type Server } from 'http';
import { readFileSync } from 'fs';
import type { AddressInfo } from 'net';
import { join } from 'path';

import { ensureN8n } from '../n8n/install';
import { startN8n, type N8nInstance } from '../n8n/harness';
import { KallglotSandbox, SANDBOX_AGENT_ID } from '../../sandbox';

const keep = process.argv.includes('--keep');
const CALL_INTERVAL_MS = Number(process.env.DEMO_FRAME_INTERVAL_MS ?? 350);
const bold = (s: string) => `\x1b[1m${s}\x1b[0m`;
const dim = (s: string) => `\x1b[2m${s}\x1b[0m`;
const cyan = (s: string) => `\x1b[36m${s}\x1b[0m`;
const green = (s: string) => `\x1b[32m${s}\x1b[0m`;

interface CrmRecord {
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
			onRecord({ path: req.url ?? '/', body });
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

	const sandbox = await KallglotSandbox.start({ port: 0 });
	started.push(() => sandbox.close());
	console.log(`${bold('Kallglot sandbox')}  ${sandbox.baseUrl}  ${dim(`(API key ${sandbox.apiKey})`)}`);

	let summaryReceived: () => void = () => undefined;
	const summary = new Promise<void>((resolve) => (summaryReceived = resolve));
	const crm = await startCrm(({ path, body }) => {
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

	console.log(`${bold('n8n')}  preparing n8n 2.8.4 (installed once into the cache, about 3.5 minutes the first time)…`);
	const install = await ensureN8n({ version: '2.8.4' });
	const n8n: N8nInstance = await startN8n({ install, name: 'demo', logLevel: 'info' });
	started.push(() => n8n.stop());
	await n8n.ensureOwner();
	console.log(`${bold('n8n')}  ${n8n.baseUrl}  with n8n-nodes-kallglot loaded  ${dim(`(log: ${n8n.logFile})`)}`);

	const credential = await n8n.createCredential('kallglotApi', { apiKey: sandbox.apiKey, baseUrl: sandbox.baseUrl }, { name: 'Kallglot sandbox' });
	const test = await n8n.testCredential(credential.id);
	console.log(`${bold('Credential')}  "Kallglot sandbox" created, test: ${test.status}`);

	const replacements = {
		KALLGLOT_CREDENTIAL_ID: credential.id,
		'https://crm.example.com/api': crmUrl,
		KALLGLOT_AGENT_ID: SANDBOX_AGENT_ID,
	};
	const live = await n8n.importWorkflow(example('live-translated-call-to-crm.json', replacements));
	const campaign = await n8n.importWorkflow(example('outbound-ai-agent-campaign.json', replacements));
	console.log(`${bold('Workflows')}  imported "Live translated call → CRM" and "Scheduled outbound AI-agent campaign"`);

	const sessionsBefore = new Set(sandbox.sessions.keys());
	await n8n.activate(live.id);
	const sessionId = await waitFor(() => [...sandbox.sessions.keys()].find((id) => !sessionsBefore.has(id) && sandbox.openStreamCount(id) > 0));
	console.log(`${bold('Trigger')}  published; listening to ${sessionId}\n`);
	console.log(bold('Live call (what reaches n8n and the CRM, utterance by utterance):'));
	await sandbox.play(sessionId, { intervalMs: CALL_INTERVAL_MS, endWhenDone: true });
	await Promise.race([summary, new Promise((resolve) => setTimeout(resolve, 30_000))]);

	console.log(`\n${bold('Open the editor:')} ${n8n.baseUrl}/workflow/${live.id}   (campaign: ${n8n.baseUrl}/workflow/${campaign.id})`);
	console.log(`${bold('Login:')} ${n8n.owner.email} / ${n8n.owner.password}`);
	if (!keep) {
		console.log(dim('Run with --keep (npm run demo -- --keep) to keep n8n and the sandbox running.'));
		await stopAll(0);
		return;
	}
	console.log(dim('Everything keeps running; Ctrl-C stops it. The trigger is already listening to the next session.'));
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
