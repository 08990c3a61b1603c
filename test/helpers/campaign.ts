/**
 * An outbound campaign as a workflow on n8n-core's real WorkflowExecute: a contact list, then
 * Kallglot Create Session and Dial for each contact (2 billable requests each). Used by the
 * campaign tests and by `npm run bench` part 5; the run can be cancelled as n8n's Stop does.
 */
// First: the engine helper points n8n-core at a temporary user folder before n8n-core loads.
import { PACKAGE, TestNodeTypes, additionalDataFor } from './engine';
import type { ICredentialDataDecryptedObject, IExecuteFunctions, INode, INodeExecutionData, INodeType, IRun } from 'n8n-workflow';
import { createDeferredPromise, createRunExecutionData, Workflow } from 'n8n-workflow';
import { ExecutionLifecycleHooks, WorkflowExecute } from 'n8n-core';

/** The contact list the campaign starts from (stands in for a CRM or sheet node): passes items on. */
class Contacts implements INodeType {
	description = {
		displayName: 'Contacts',
		name: 'campaignContacts',
		group: ['transform'],
		version: 1,
		description: 'Campaign contact list',
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

export interface CampaignRun {
	/** Stops the execution as n8n's Stop button does (the engine aborts its cancel signal). */
	cancel(): void;
	/** Resolves with the run data once the execution has ended (also after a cancel). */
	done: Promise<IRun>;
}

/** The contact ids of a campaign: `${prefix}-0`, `${prefix}-1`, … */
export const contactIds = (prefix: string, contacts: number) => Array.from({ length: contacts }, (_, i) => `${prefix}-${i}`);

/**
 * Starts one campaign execution of `contacts` contacts; ids and Idempotency-Keys carry `prefix`.
 * `kallglot` is the Kallglot node (passed in: jest and tsx resolve its module path differently).
 */
export function startCampaign(kallglot: INodeType, credentials: ICredentialDataDecryptedObject, contacts: number, prefix = 'C'): CampaignRun {
	const nodes = [
		node('Contacts', 'campaignContacts', {}, 0),
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
				options: { idempotencyKey: "={{ 'campaign:create:' + $json.contactId }}" },
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
				options: { idempotencyKey: "={{ 'campaign:dial:' + $('Contacts').item.json.contactId }}" },
			},
			400,
		),
	];
	const connections = {
		Contacts: { main: [[{ node: 'Create Session', type: 'main', index: 0 }]] },
		'Create Session': { main: [[{ node: 'Dial', type: 'main', index: 0 }]] },
	};
	const workflowData = { id: `campaign-${prefix}`, name: 'campaign', nodes, connections, active: false, settings: {} };
	const workflow = new Workflow({
		...workflowData,
		nodeTypes: new TestNodeTypes([kallglot, new Contacts()]),
	} as never);
	const input = contactIds(prefix, contacts).map((contactId, i) => ({
		json: { contactId, phone: `+1415555${String(i).padStart(4, '0')}` },
	}));
	const hooks = new ExecutionLifecycleHooks('trigger', prefix, workflowData as never);
	const after = createDeferredPromise<IRun>();
	hooks.addHandler('workflowExecuteAfter', (run) => after.resolve(run));
	const runExecutionData = createRunExecutionData({
		executionData: { nodeExecutionStack: [{ node: nodes[0], data: { main: [input] }, source: null }] },
	});
	const additionalData = additionalDataFor({ kallglotApi: credentials }, hooks);
	const execution = new WorkflowExecute(additionalData, 'trigger', runExecutionData).processRunExecutionData(workflow);
	// A cancelled execution reports once at the cancel and settles when its running node has ended.
	const done = Promise.all([execution, after.promise]).then(([final, reported]) => final ?? reported);
	return { cancel: () => execution.cancel(), done };
}

/** The Dial node's output items of a run (one per contact that got that far). */
export const dialItems = (run: IRun) => run.data.resultData.runData.Dial?.[0]?.data?.main?.[0] ?? [];

/** The error the node that was running when the run ended reported, if any. */
export function nodeError(run: IRun, nodeName: string) {
	return run.data.resultData.runData[nodeName]?.[0]?.error;
}
