import type { INodeProperties } from 'n8n-workflow';

import * as create from './create';
import * as dial from './dial';
import * as end from './end';
import * as get from './get';
import * as getTranscript from './getTranscript';
import * as translateAudio from './translateAudio';

export const operations = { create, get, end, getTranscript, dial, translateAudio };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['session'] } },
		default: 'create',
		options: [
			{ name: 'Create', value: 'create', action: 'Create a session', description: 'Start a real-time voice session' },
			{ name: 'Dial', value: 'dial', action: 'Dial a phone number', description: "Place a session's outbound call" },
			{ name: 'End', value: 'end', action: 'End a session', description: 'Hang up, stop recording and billing' },
			{ name: 'Get', value: 'get', action: 'Get a session', description: 'Retrieve a session' },
			{
				name: 'Get Transcript',
				value: 'getTranscript',
				action: 'Get a session transcript',
				description: "Retrieve a session's full transcript with translations",
			},
			{
				name: 'Translate Audio',
				value: 'translateAudio',
				action: 'Translate an audio file',
				description: 'Stream a recording or voicemail into a session and get a bilingual, speaker-separated transcript',
			},
		],
	},
	...create.description,
	...get.description,
	...end.description,
	...getTranscript.description,
	...dial.description,
	...translateAudio.description,
];
