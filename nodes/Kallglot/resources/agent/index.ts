import type { INodeProperties } from 'n8n-workflow';

import * as getMany from './getMany';

export const operations = { getMany };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['agent'] } },
		default: 'getMany',
		options: [{ name: 'Get Many', value: 'getMany', action: 'Get many agents', description: 'List AI agents' }],
	},
	...getMany.description,
];
