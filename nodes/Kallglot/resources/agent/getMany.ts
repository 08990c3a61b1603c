import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { agentLimit } from '../../../shared/wire';
import { validateParameters } from '../../../shared/fields/validation';
import type { KallglotApi } from '../../../shared/api';

const show = { resource: ['agent'], operation: ['getMany'] };

export const description: INodeProperties[] = [
	{
		displayName: 'Return All',
		name: 'returnAll',
		type: 'boolean',
		default: false,
		description: 'Whether to return all results or only up to a given limit',
		displayOptions: { show },
	},
	{
		displayName: 'Limit',
		name: 'limit',
		type: 'number',
		default: 50,
		typeOptions: { minValue: 1 },
		description: 'Max number of results to return',
		displayOptions: { show: { ...show, returnAll: [false] } },
	},
];

/** Lists AI agents, following Kallglot's cursor until the limit or the last page. */
export async function execute(this: IExecuteFunctions, itemIndex: number, api: KallglotApi): Promise<INodeExecutionData[]> {
	const returnAll = this.getNodeParameter('returnAll', itemIndex, false) as boolean;
	const limit = returnAll
		? Infinity
		: validateParameters(agentLimit, { limit: this.getNodeParameter('limit', itemIndex, 50) }, this.getNode(), itemIndex).limit;

	const agents = await api.list('listAgents', [], { limit, itemIndex });
	return agents.map((agent) => ({ json: agent, pairedItem: { item: itemIndex } }));
}
