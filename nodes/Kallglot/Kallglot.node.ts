import type {
	IDataObject,
	IExecuteFunctions,
	INode,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeApiError, NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';

import { KallglotApi, stoppedError } from '../shared/api';
import { systemClock, type Clock } from '../shared/clock';
import { asNodeError } from '../shared/nodeError';
import { RateLimitPacer } from '../shared/rateLimit';
import { searchAgents } from '../shared/agents/searchAgents';
import * as agent from './resources/agent';
import * as analysis from './resources/analysis';
import * as recording from './resources/recording';
import * as session from './resources/session';

/**
 * The JSON of a failed item under "On Error: Continue". For the error output it has exactly the
 * keys `message` and `error`: one of the shapes n8n's core moves to that output (it also keeps
 * the input item's fields beside them). An `error` property on the item would move it too, but
 * core then replaces the JSON with the bare message, losing the fix.
 */
function failedItemJson(error: NodeApiError | NodeOperationError, onError: INode['onError']): IDataObject {
	const description = error.description ?? null;
	if (onError === 'continueErrorOutput') {
		return {
			message: error.message,
			error: { message: error.message, description, ...(error instanceof NodeApiError ? { httpCode: error.httpCode } : {}) },
		};
	}
	return { error: error.message, description };
}

/** The node's answer to a stop: how many items were done, and that nothing more was sent. */
function stoppedAfter(ctx: IExecuteFunctions, done: number, total: number): NodeOperationError {
	const error = stoppedError(ctx.getNode(), done);
	error.message = `Stopped after ${done} of ${total} items: the execution was cancelled, so nothing more was sent to Kallglot`;
	error.description = `The first ${done} items were done. Item ${done + 1} was waiting (nothing sent) or its request was in flight (n8n cuts it: Kallglot may have acted on it); the rest were not sent. Re-run items ${done + 1}–${total} with the same Idempotency-Keys and Kallglot creates or dials nothing twice.`;
	ctx.logger.info(`Kallglot: ${error.message}`);
	return error;
}

/** Where the execution's flow context keeps the pacer's state between Kallglot node runs. */
const PACER_STATE_KEY = 'kallglotRateLimit';

/** An operation gets the execution's API client: its pacer, clock and cancel signal are the execution's. */
type Operation = (this: IExecuteFunctions, itemIndex: number, api: KallglotApi) => Promise<INodeExecutionData[]>;

const router: Record<string, Record<string, { execute: Operation }>> = {
	session: session.operations,
	agent: agent.operations,
	recording: recording.operations,
	analysis: analysis.operations,
};

export class Kallglot implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Kallglot',
		name: 'kallglot',
		icon: { light: 'file:../../credentials/kallglot.svg', dark: 'file:../../credentials/kallglot.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["operation"] + ": " + $parameter["resource"] }}',
		description:
			'Create real-time voice sessions (live call translation, AI voice agents, voice help desk), then get their recordings and post-call analyses',
		defaults: { name: 'Kallglot' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'kallglotApi', required: true }],
		properties: [
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'Session', value: 'session' },
					{ name: 'Agent', value: 'agent' },
					{ name: 'Analysis', value: 'analysis' },
					{ name: 'Recording', value: 'recording' },
				],
				default: 'session',
			},
			...session.description,
			...agent.description,
			...recording.description,
			...analysis.description,
		],
	};

	methods = { listSearch: { searchAgents } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await executeOnClock.call(this, systemClock);
	}
}

/** The node's run with its waits on `clock` (n8n's: the system clock; tests pass a fake one). */
export async function executeOnClock(this: IExecuteFunctions, clock: Clock): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const output: INodeExecutionData[] = [];
	// Consecutive items, and the next Kallglot node of this execution (Dial after Create
	// Session), share what Kallglot's responses said about the rate limit: the pacer's state is
	// kept in the execution's flow context. (A run that throws ends the execution: nothing to keep.)
	const flow = this.getContext('flow');
	const pacer = new RateLimitPacer({ now: () => clock.now(), resume: flow[PACER_STATE_KEY] });
	// Stopping the execution (or its timeout) ends the loop: no item after it sends anything,
	// and a request waiting or in flight ends at once.
	const cancelled = this.getExecutionCancelSignal();
	const api = new KallglotApi(this, { clock, pacer, signal: cancelled });

	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		if (cancelled?.aborted) throw stoppedAfter(this, itemIndex, items.length);
		try {
			const resource = this.getNodeParameter('resource', itemIndex) as string;
			const operation = this.getNodeParameter('operation', itemIndex) as string;
			const handler = router[resource]?.[operation];
			if (!handler) {
				throw new NodeOperationError(this.getNode(), `The operation "${operation}" of "${resource}" is not supported`, {
					itemIndex,
				});
			}
			output.push(...(await handler.execute.call(this, itemIndex, api)));
		} catch (error) {
			if (cancelled?.aborted) throw stoppedAfter(this, itemIndex, items.length);
			const nodeError = asNodeError(this.getNode(), error, itemIndex);
			if (this.continueOnFail()) {
				output.push({ json: failedItemJson(nodeError, this.getNode().onError), pairedItem: { item: itemIndex } });
				continue;
			}
			throw nodeError;
		}
	}
	flow[PACER_STATE_KEY] = pacer.snapshot();
	return [output];
}
