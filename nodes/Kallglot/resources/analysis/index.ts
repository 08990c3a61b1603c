import type { INodeProperties } from 'n8n-workflow';

import * as create from './create';
import * as get from './get';

export const operations = { create, get };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['analysis'] } },
		default: 'create',
		options: [
			{
				name: 'Create',
				value: 'create',
				action: 'Create an analysis',
				description: 'Request a post-call analysis of a session (1 API credit)',
			},
			{ name: 'Get', value: 'get', action: 'Get an analysis', description: 'Retrieve an analysis and its results' },
		],
	},
	...create.description,
	...get.description,
];
