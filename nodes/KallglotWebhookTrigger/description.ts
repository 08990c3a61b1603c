import type { INodeProperties, INodePropertyOptions } from 'n8n-workflow';

import { DEFAULT_TOLERANCE_SECONDS } from '../shared/webhook';
import { MAX_ENRICHMENT_BUDGET_MS } from './kallglotCalls';
import { POST_CALL_EVENT_TYPES, sessionModeOptions, type WebhookEventType } from '../shared/wire';

/** One option per event type, in the editor's (name) order: a type without one does not compile. */
const EVENT_LABELS = {
	'analysis.complete': { name: 'Analysis Complete', description: 'A post-call analysis finished' },
	'analysis.failed': { name: 'Analysis Failed', description: 'A post-call analysis could not be made' },
	'session.provider.connected': { name: 'Provider Connected', description: 'The telephony provider joined the session' },
	'session.provider.disconnected': { name: 'Provider Disconnected', description: 'The telephony provider left the session' },
	'recording.failed': { name: 'Recording Failed', description: 'A recording could not be produced' },
	'recording.ready': { name: 'Recording Ready', description: 'A recording can be downloaded (one per channel)' },
	'session.created': { name: 'Session Created', description: 'A session was created (by API or an inbound call)' },
	'session.ended': { name: 'Session Ended', description: 'A call ended, with its duration and reason' },
	'session.started': { name: 'Session Started', description: 'Audio started flowing' },
	'transcript.ready': { name: 'Transcript Ready', description: 'The full transcript of an ended session is final' },
	'transcript.segment': { name: 'Transcript Segment', description: 'Each final utterance while the call runs (many per call)' },
} satisfies Record<WebhookEventType, { name: string; description: string }>;

const EVENT_OPTIONS: INodePropertyOptions[] = Object.entries(EVENT_LABELS).map(([value, label]) => ({ value, ...label }));

export const properties: INodeProperties[] = [
	{
		displayName:
			'In the Kallglot developer portal, add a webhook endpoint: paste this node’s <b>Production URL</b> (under Webhook URLs above) as the endpoint URL and select the same events as under Events below. Copy the endpoint’s signing secret into the Kallglot Webhook API credential, then publish this workflow. The Test URL works only while you listen for a test event.',
		name: 'portalNotice',
		type: 'notice',
		default: '',
	},
	{
		displayName: 'Events',
		name: 'events',
		type: 'multiOptions',
		default: [...POST_CALL_EVENT_TYPES],
		required: true,
		description: 'Which events start the workflow. Choose the same ones for the endpoint in the Kallglot portal.',
		options: EVENT_OPTIONS,
	},
	{
		displayName: 'Verify Signatures',
		name: 'verifySignatures',
		type: 'boolean',
		default: true,
		description:
			'Whether to accept only deliveries signed with the credential’s signing secret and sent recently (anything else gets 401 and starts nothing)',
	},
	{
		displayName:
			'Signatures are NOT verified: anyone who knows this URL can start the workflow with made-up events. Turn this back on before you publish.',
		name: 'unverifiedWarning',
		type: 'notice',
		default: '',
		displayOptions: { show: { verifySignatures: [false] } },
	},
	{
		displayName:
			'The Kallglot API credential is optional. Without it, items carry what the event itself holds (metadata: null on events that are not a session). Metadata filters and the Fetch/Download options call the Kallglot API: to use them, add a Kallglot API credential above.',
		name: 'apiNotice',
		type: 'notice',
		default: '',
	},
	{
		displayName: 'Event Memory',
		name: 'eventMemory',
		type: 'options',
		default: 'workflow',
		description:
			'Where the IDs of events already handed to n8n are kept, so a redelivered event starts no second execution',
		options: [
			{
				name: 'Workflow Static Data (Single Process)',
				value: 'workflow',
				description:
					'Kept with the workflow. Copies of one event that arrive at the same moment on different n8n webhook processes can both run.',
			},
			{
				name: 'Redis (All Processes)',
				value: 'redis',
				description:
					'For queue mode with several webhook processes: one execution per event across all of them. One Redis round trip per delivery.',
			},
		],
	},
	{
		displayName: 'Filters',
		name: 'filters',
		type: 'collection',
		placeholder: 'Add Filter',
		default: {},
		description: 'Only events of matching sessions start the workflow; others are acknowledged and skipped',
		options: [
			{
				displayName: 'Metadata',
				name: 'metadata',
				type: 'fixedCollection',
				typeOptions: { multipleValues: true },
				default: {},
				placeholder: 'Add Metadata Condition',
				description:
					'Session metadata that must match (every pair; values compared as text), e.g. campaign = spring-2027 as set at Create Session',
				options: [
					{
						displayName: 'Condition',
						name: 'conditions',
						values: [
							{ displayName: 'Key', name: 'key', type: 'string', default: '', placeholder: 'e.g. campaign' },
							{ displayName: 'Value', name: 'value', type: 'string', default: '', placeholder: 'e.g. spring-2027' },
						],
					},
				],
			},
			{
				displayName: 'Session Modes',
				name: 'modes',
				type: 'multiOptions',
				default: [],
				description: 'Only sessions in these modes (none selected: every mode)',
				options: sessionModeOptions({ sorted: true }),
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
				displayName: 'Download Recording',
				name: 'downloadRecording',
				type: 'boolean',
				default: false,
				description: 'Whether a Recording Ready item carries the audio file as binary data',
			},
			{
				displayName: 'Enrichment Time Limit (Seconds)',
				name: 'enrichmentBudgetSeconds',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: MAX_ENRICHMENT_BUDGET_MS / 1000 },
				// DEFAULT_ENRICHMENT_BUDGET_MS in seconds (the lint rule wants a literal; a test checks they agree).
				default: 15,
				description:
					'How long fetching the transcript, analysis or recording may take before the event runs without it (with enrichmentError); Kallglot waits 30 s for the answer',
			},
			{
				displayName: 'Fetch Analysis',
				name: 'fetchAnalysis',
				type: 'boolean',
				default: false,
				description: 'Whether an Analysis Complete item carries the full analysis object (under analysis)',
			},
			{
				displayName: 'Fetch Full Transcript',
				name: 'fetchTranscript',
				type: 'boolean',
				default: false,
				description: 'Whether a Transcript Ready item carries every turn of the transcript (under transcript)',
			},
			{
				displayName: 'Pass Through Unknown Event Types',
				name: 'passUnknown',
				type: 'boolean',
				default: false,
				description: 'Whether event types this node does not know yet (added by Kallglot later) start the workflow too',
			},
			{
				displayName: 'Put Recording in Field',
				name: 'binaryPropertyName',
				type: 'string',
				default: 'data',
				description: 'The binary property the recording is written to (with Download Recording)',
			},
			{
				displayName: 'Remembered Event IDs',
				name: 'rememberedEvents',
				type: 'number',
				typeOptions: { minValue: 100, maxValue: 10000 },
				default: 1000,
				description:
					'How many recent event IDs are kept in the workflow static data (for 48 hours) so a redelivered event starts no second execution. With Redis as the event memory, every ID is kept for 48 hours.',
			},
			{
				displayName: 'Timestamp Tolerance (Seconds)',
				name: 'toleranceSeconds',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: DEFAULT_TOLERANCE_SECONDS,
				description: 'Deliveries signed longer ago than this (or this far in the future) are refused as replays',
			},
		],
	},
];
