import type { INodeProperties } from 'n8n-workflow';

import * as download from './download';
import * as get from './get';
import * as getMany from './getMany';

export const operations = { getMany, get, download };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['recording'] } },
		default: 'getMany',
		options: [
			{
				name: 'Download',
				value: 'download',
				action: 'Download a recording',
				description: 'Get the audio file of a recording as binary data',
			},
			{ name: 'Get', value: 'get', action: 'Get a recording', description: "Retrieve a recording's metadata" },
			{
				name: 'Get Many',
				value: 'getMany',
				action: 'Get many recordings',
				description: 'List the recordings of a session (available after it ends)',
			},
		],
	},
	...getMany.description,
	...get.description,
	...download.description,
];
