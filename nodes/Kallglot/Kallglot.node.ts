import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { searchAgents } from './listSearch/searchAgents';
import * as agent from './resources/agent';
import * as analysis from './resources/analysis';
import * as recording from './resources/recording';
import * as session from './resources/session';

type Operation = (this: IExecuteFunctions, itemIndex: number) => Promise<INodeExecutionData[]>;

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
		icon: { light: 'file:kallglot.svg', dark: 'file:kallglot.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["operation"] + ": " + $parameter["resource"] }}',
		description: 'Create real-time voice sessions: live call translation, AI voice agents, voice help desk',
		defaults: { name: 'Kallglot' },
		usableAsTool: true,
		inputs: ['main'],
		outputs: ['main'],
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
		const items = this.getInputData();
		const output: INodeExecutionData[] = [];

		for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
			try {
				const resource = this.getNodeParameter('resource', itemIndex) as string;
				const operation = this.getNodeParameter('operation', itemIndex) as string;
				const handler = router[resource]?.[operation];
				if (!handler) {
					throw new NodeOperationError(this.getNode(), `The operation "${operation}" of "${resource}" is not supported`, {
						itemIndex,
					});
				}
				output.push(...(await handler.execute.call(this, itemIndex)));
			} catch (error) {
				const nodeError =
					error instanceof NodeApiError || error instanceof NodeOperationError
						? error
						: new NodeOperationError(this.getNode(), error as Error, { itemIndex });
				if (this.continueOnFail()) {
					output.push({
						json: { error: nodeError.message, description: nodeError.description ?? null },
						pairedItem: { item: itemIndex },
					});
					continue;
				}
				throw nodeError;
			}
		}
		return [output];
	}
}
