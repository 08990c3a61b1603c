/**
 * Part 5 of `npm run bench`: an outbound campaign against Kallglot's rate limit. N contacts go
 * through Create Session then Dial (2 billable requests each) in ONE workflow run on n8n-core's
 * real WorkflowExecute (test/helpers/engine.ts), against the sandbox limited to `limit` requests/s.
 * Figure: wall time ÷ the ideal (2N / limit seconds), with failures and duplicates beside it.
 */
// First: the engine helper points n8n-core at a temporary user folder before n8n-core loads.
import { PACKAGE, TestNodeTypes, additionalDataFor } from '../test/helpers/engine';
import type { IExecuteFunctions, INode, INodeExecutionData, INodeType, IRun } from 'n8n-workflow';
import { createDeferredPromise, createRunExecutionData, Workflow } from 'n8n-workflow';
import { ExecutionLifecycleHooks, WorkflowExecute } from 'n8n-core';
// The .js suffix: without it tsx would resolve Kallglot.node.json (the codex) first.
import { Kallglot } from '../nodes/Kallglot/Kallglot.node.js';
import { KallglotSandbox } from '../sandbox';
import { round } from './util';

/** The contact list the campaign starts from (stands in for a CRM or sheet node): passes items on. */
class Contacts implements INodeType {
	description = {
		displayName: 'Contacts',
		name: 'benchContacts',
		group: ['transform'],
		version: 1,
		description: 'Benchmark contact list',
		defaults: { name: 'Contacts' },
		inputs: ['main'],
		outputs: ['main'],
		properties: [],
	} as unknown as INodeType['description'];

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return [this.getInputData().map((item, index) => ({ json: item.json, pairedItem: { item: index } }))];
	}
}

const node = (name: string, type: string, parameters: INode['parameters'], x: number): INode => ({
	id: name,
	name,
	type: `${PACKAGE}.${type}`,
	typeVersion: 1,
	position: [x, 0],
	parameters,
	credentials: type === 'kallglot' ? { kallglotApi: { id: '1', name: 'Kallglot account' } } : undefined,
	onError: 'continueRegularOutput',
});

export interface CampaignResult {
	contacts: number;
	billableRequests: number;
	limitPerSecond: number;
	idealSeconds: number;
	wallSeconds: number;
	/** wall ÷ ideal */
	ratioToIdeal: number;
	failures: number;
	duplicateSessions: number;
	duplicateDials: number;
	/** 429 answers the sandbox sent (each one a retry the node had to make). */
	rateLimited: number;
}

export async function campaign(contacts: number, limitPerSecond = 50): Promise<CampaignResult> {
	const sandbox = await KallglotSandbox.start({ rateLimit: { limit: limitPerSecond, windowMs: 1000 } });
	try {
		const nodes = [
			node('Contacts', 'benchContacts', {}, 0),
			node(
				'Create Session',
				'kallglot',
				{
					resource: 'session',
					operation: 'create',
					mode: 'bidirectional_translation',
					sourceLanguage: 'es',
					targetLanguage: 'en',
					metadata: { entry: [{ key: 'contact_id', value: '={{ $json.contactId }}' }] },
					options: { idempotencyKey: "={{ 'bench:create:' + $json.contactId }}" },
				},
				200,
			),
			node(
				'Dial',
				'kallglot',
				{
					resource: 'session',
					operation: 'dial',
					sessionId: '={{ $json.id }}',
					to: "={{ $('Contacts').item.json.phone }}",
					options: { idempotencyKey: "={{ 'bench:dial:' + $('Contacts').item.json.contactId }}" },
				},
				400,
			),
		];
		const connections = {
			Contacts: { main: [[{ node: 'Create Session', type: 'main', index: 0 }]] },
			'Create Session': { main: [[{ node: 'Dial', type: 'main', index: 0 }]] },
		};
		const workflowData = { id: 'bench', name: 'campaign', nodes, connections, active: false, settings: {} };
		const workflow = new Workflow({
			...workflowData,
			nodeTypes: new TestNodeTypes([new Kallglot(), new Contacts()]),
		} as never);
		const input = Array.from({ length: contacts }, (_, i) => ({
			json: { contactId: `C-${1000 + i}`, phone: `+1415555${String(i).padStart(4, '0')}` },
		}));
		const hooks = new ExecutionLifecycleHooks('trigger', 'bench', workflowData as never);
		const done = createDeferredPromise<IRun>();
		hooks.addHandler('workflowExecuteAfter', (run) => done.resolve(run));
		const runExecutionData = createRunExecutionData({
			executionData: { nodeExecutionStack: [{ node: nodes[0], data: { main: [input] }, source: null }] },
		});
		const additionalData = additionalDataFor({ kallglotApi: { apiKey: sandbox.apiKey, baseUrl: sandbox.baseUrl } }, hooks);

		const started = performance.now();
		await new WorkflowExecute(additionalData, 'trigger', runExecutionData).processRunExecutionData(workflow);
		const run = await done.promise;
		const wallSeconds = (performance.now() - started) / 1000;

		const dials = run.data.resultData.runData.Dial?.[0]?.data?.main?.[0] ?? [];
		const failures = contacts - dials.filter((item) => !item.json.error && (item.json as { call?: unknown }).call).length;
		const perContact = new Map<string, number>();
		for (const session of sandbox.sessions.values()) {
			const id = String((session.metadata as Record<string, unknown> | undefined)?.contact_id);
			perContact.set(id, (perContact.get(id) ?? 0) + 1);
		}
		// A dial is placed once per distinct key that got a 200; a replayed key is not a second call.
		const dialKeys = new Map<string, Set<string>>();
		for (const r of sandbox.requests) {
			if (r.method !== 'POST' || !r.path.endsWith('/dial') || r.status !== 200) continue;
			const keys = dialKeys.get(r.path) ?? new Set<string>();
			keys.add(r.headers['idempotency-key'] ?? r.requestId);
			dialKeys.set(r.path, keys);
		}
		const billable = 2 * contacts;
		const idealSeconds = billable / limitPerSecond;
		return {
			contacts,
			billableRequests: billable,
			limitPerSecond,
			idealSeconds,
			wallSeconds: round(wallSeconds, 1) as number,
			ratioToIdeal: round(wallSeconds / idealSeconds, 2) as number,
			failures,
			duplicateSessions: [...perContact.values()].reduce((n, count) => n + count - 1, 0),
			duplicateDials: [...dialKeys.values()].reduce((n, keys) => n + keys.size - 1, 0),
			rateLimited: sandbox.requests.filter((r) => r.status === 429).length,
		};
	} finally {
		await sandbox.close();
	}
}
