import type { INodeProperties } from 'n8n-workflow';

import { createSessionFields } from '../shared/session/createSession';
import { sessionIdField } from '../shared/fields/sessionId';
import { eventChoiceOptions } from './items';

const whenCreating = { sessionSource: ['create'] };

export const properties: INodeProperties[] = [
	{
		displayName: 'Session to Listen To',
		name: 'sessionSource',
		type: 'options',
		noDataExpression: true,
		default: 'create',
		options: [
			{
				name: 'Create a New Session',
				value: 'create',
				description: 'Create a session when the workflow activates and listen to it',
			},
			{ name: 'An Existing Session', value: 'existing', description: 'Listen to a session created elsewhere' },
		],
	},
	sessionIdField(
		{ sessionSource: ['existing'] },
		'The session to listen to. A fresh stream token is fetched for every connection.',
	),
	{
		displayName: 'When the Session Ends',
		name: 'afterSessionEnds',
		type: 'options',
		default: 'stop',
		displayOptions: { show: whenCreating },
		options: [
			{ name: 'Stop Listening', value: 'stop', description: 'The trigger stays active but idle until re-activated' },
			{
				name: 'Create the Next Session',
				value: 'createNext',
				description: 'Keep listening: for a managed number that takes call after call',
			},
		],
	},
	...createSessionFields(whenCreating, { idempotencyKey: false }),
	{
		displayName: 'Events',
		name: 'events',
		type: 'multiOptions',
		default: ['finals', 'ended'],
		description: 'Which stream events start the workflow',
		options: eventChoiceOptions(),
		displayOptions: { show: { emitAs: ['event', 'batch'] } },
	},
	{
		displayName: 'Emit As',
		name: 'emitAs',
		type: 'options',
		default: 'event',
		description: 'Decides how many executions a call costs',
		options: [
			{ name: 'One Item per Event', value: 'event', description: 'An execution per utterance, as it is spoken' },
			{
				name: 'One Item per Batch',
				value: 'batch',
				description: 'One execution every few seconds or events (whichever comes first), holding that batch in order',
			},
			{
				name: 'One Item per Session',
				value: 'session',
				description: 'One execution when the session ends, with the whole bilingual transcript',
			},
		],
	},
	{
		displayName: 'Batch Interval',
		name: 'batchSeconds',
		type: 'number',
		default: 10,
		typeOptions: { minValue: 1 },
		displayOptions: { show: { emitAs: ['batch'] } },
		hint: 'In seconds: a batch is emitted this long after its first event, or sooner when it is full',
	},
	{
		displayName: 'Batch Size',
		name: 'batchSize',
		type: 'number',
		default: 20,
		typeOptions: { minValue: 1 },
		displayOptions: { show: { emitAs: ['batch'] } },
		description: 'The most events in one batch; a full batch is emitted at once',
	},
	{
		displayName: 'Filters',
		name: 'filters',
		type: 'collection',
		placeholder: 'Add Filter',
		default: {},
		options: [
			{
				displayName: 'Languages',
				name: 'languages',
				type: 'string',
				default: '',
				placeholder: 'e.g. es, en',
				description: 'Only utterances spoken in these languages (comma-separated codes)',
			},
			{
				displayName: 'Speakers',
				name: 'speakers',
				type: 'multiOptions',
				default: [],
				options: [
					{ name: 'Agent', value: 'agent' },
					{ name: 'Customer', value: 'customer' },
				],
				description: 'Only utterances of these speakers',
			},
		],
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Emit Reconnect Notices',
				name: 'emitReconnects',
				type: 'boolean',
				default: false,
				description:
					'Whether to emit a stream.reconnected item after the stream was interrupted, since events spoken during the gap may be missing',
			},
			{
				displayName: 'End Created Session on Deactivate',
				name: 'endSessionOnDeactivate',
				type: 'boolean',
				default: true,
				displayOptions: { show: { '/sessionSource': ['create'] } },
				description: 'Whether to end the session the trigger created when the workflow is deactivated. A forgotten session keeps billing.',
			},
			{
				displayName: 'Include Raw Frame',
				name: 'includeRaw',
				type: 'boolean',
				default: false,
				description: 'Whether to add the frame exactly as Kallglot sent it, under "raw"',
			},
			{
				displayName: 'Keepalive Interval',
				name: 'pingIntervalSeconds',
				type: 'number',
				default: 15,
				typeOptions: { minValue: 1 },
				hint: 'In seconds. A stream silent for two intervals is treated as dead and reconnected.',
			},
			{
				displayName: 'Max Frame Size',
				name: 'maxFrameKb',
				type: 'number',
				default: 256,
				typeOptions: { minValue: 1 },
				hint: 'In KiB. Larger frames are skipped and counted.',
			},
			{
				displayName: 'Max Queued Items',
				name: 'maxQueuedItems',
				type: 'number',
				default: 100,
				typeOptions: { minValue: 1 },
				description:
					'Items waiting for their execution. When more are waiting, the backlog is coalesced into session.batch items (in order, nothing dropped, counted on the session.ended item), and so is whatever waits until the backlog has drained.',
			},
			{
				displayName: 'Max Reconnect Attempts',
				name: 'maxReconnectAttempts',
				type: 'number',
				default: 10,
				typeOptions: { minValue: 1 },
				description:
					'Consecutive failed attempts before the trigger reports an error (n8n then runs the error workflow and re-activates it later). A connection that got session.ready and stayed up 5 seconds counts as a success: it resets the count and the wait.',
			},
			{
				displayName: 'Max Reconnect Delay',
				name: 'maxReconnectDelaySeconds',
				type: 'number',
				default: 30,
				typeOptions: { minValue: 1 },
				hint: 'In seconds: the longest wait between attempts. The first retry after a working connection comes within 0.25 s, then the wait doubles from 1 s, with jitter.',
			},
			{
				displayName: 'Parallel Executions',
				name: 'parallelExecutions',
				type: 'number',
				default: 1,
				typeOptions: { minValue: 1 },
				description:
					'How many executions of this trigger may run at once. 1: in order, one at a time (the next starts when the previous finished).',
			},
			{
				displayName: 'Pass Through Unknown Events',
				name: 'passUnknown',
				type: 'boolean',
				default: false,
				description: 'Whether to emit event types this node does not know yet (with the raw frame) instead of skipping them',
			},
		],
	},
];
