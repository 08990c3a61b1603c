/**
 * The Create Session fields and their reader: the action node's Session → Create and the session
 * trigger's "create a session" show the same fields and send the same body.
 */
import type { IDataObject, IDisplayOptions, INode, INodeProperties } from 'n8n-workflow';

import {
	CALL_DIRECTIONS,
	CONSENT_STATES,
	createSessionInput,
	RECORDING_MIX_MODES,
	sessionModeOptions,
	type CreateSessionInput,
} from '../wire';
import { allowedDestinationsOption, checkDestination } from '../fields/destinations';
import { idempotencyKeyOption } from '../fields/idempotency';
import { AUTO_DETECT, languageOptions } from '../fields/languages';
import { parseJsonObject, validateParameters } from '../fields/validation';

type Show = IDisplayOptions['show'];

/** Modes that may reference an AI agent (required for ai_agent, optional for help_chat_voice). */
const AGENT_MODES: string[] = ['ai_agent', 'help_chat_voice'];

const withShow = (show: Show, extra?: Show): IDisplayOptions => ({ show: { ...show, ...extra } });

function agentField(displayOptions: IDisplayOptions, required: boolean): INodeProperties {
	return {
		displayName: 'Agent',
		name: 'agent',
		type: 'resourceLocator',
		required,
		displayOptions,
		default: { mode: 'list', value: '' },
		description: required
			? 'The AI agent that handles the call. Prompts and tools are configured on the agent in Kallglot.'
			: 'Optional: an AI agent for the voice help desk. Leave empty for Kallglot’s default help-desk assistant.',
		modes: [
			{
				displayName: 'From List',
				name: 'list',
				type: 'list',
				typeOptions: { searchListMethod: 'searchAgents', searchable: true, searchFilterRequired: false },
			},
			{
				displayName: 'By ID',
				name: 'id',
				type: 'string',
				placeholder: 'e.g. agt_01HXYZ',
				validation: [{ type: 'regex', properties: { regex: '^agt_\\w+$', errorMessage: 'Agent IDs start with agt_' } }],
			},
		],
	};
}

/**
 * The Create Session fields. The trigger shows the same fields (under its own condition), so the
 * list is built for a given `show` rather than fixed to this node's resource and operation.
 */
/** The session's metadata as key/value pairs (read by `pairs(…, 'entry', 'key')`). */
export function metadataField(displayOptions: IDisplayOptions, description: string): INodeProperties {
	return {
		displayName: 'Metadata',
		name: 'metadata',
		type: 'fixedCollection',
		placeholder: 'Add Metadata',
		typeOptions: { multipleValues: true },
		displayOptions,
		default: {},
		description,
		options: [
			{
				displayName: 'Entry',
				name: 'entry',
				values: [
					{ displayName: 'Key', name: 'key', type: 'string', default: '', placeholder: 'e.g. customer_id' },
					{ displayName: 'Value', name: 'value', type: 'string', default: '' },
				],
			},
		],
	};
}

export function createSessionFields(show: Show, { idempotencyKey = true } = {}): INodeProperties[] {
	const routingIs = (method: string) => withShow(show, { routing: [method] });
	return [
		{
			displayName: 'Mode',
			name: 'mode',
			type: 'options',
			required: true,
			noDataExpression: true,
			displayOptions: withShow(show),
			default: 'bidirectional_translation',
			options: sessionModeOptions(),
		},
		// Two fields under one name: the agent is required for AI Agent and optional for the voice
		// help desk. Translation modes show neither, so n8n never sends one for them.
		agentField(withShow(show, { mode: ['ai_agent'] }), true),
		agentField(withShow(show, { mode: ['help_chat_voice'] }), false),
		{
			displayName: 'Source Language',
			name: 'sourceLanguage',
			type: 'options',
			displayOptions: withShow(show),
			options: languageOptions,
			default: AUTO_DETECT,
			description: 'Language of Party A (the customer). Use an expression for a code not listed (e.g. pt-PT).',
		},
		{
			displayName: 'Target Language',
			name: 'targetLanguage',
			type: 'options',
			displayOptions: withShow(show),
			options: languageOptions,
			default: AUTO_DETECT,
			description: 'Language of Party B (the agent). Use an expression for a code not listed.',
		},
		{
			displayName: 'Routing',
			name: 'routing',
			type: 'options',
			noDataExpression: true,
			displayOptions: withShow(show),
			default: 'default',
			description: 'How the call reaches Kallglot. Exactly one route is sent.',
			options: [
				{ name: 'Organization Default', value: 'default', description: 'The default route set up in Kallglot' },
				{ name: 'Managed Phone Number', value: 'phoneNumber', description: 'A Kallglot-managed phone number' },
				{
					name: 'Provider Connection',
					value: 'connection',
					description: 'Your own Twilio or Telnyx account linked in the Kallglot portal',
				},
				{ name: 'SIP', value: 'sip', description: 'Your SIP trunk or PBX' },
			],
		},
		{
			displayName: 'Phone Number',
			name: 'phoneNumber',
			type: 'string',
			required: true,
			displayOptions: routingIs('phoneNumber'),
			default: '',
			placeholder: 'e.g. +14155551234',
			hint: 'E.164: +, country code and number, no spaces',
			description: 'The Kallglot-managed number that carries the call',
		},
		{
			displayName: 'Provider Connection ID',
			name: 'connectionId',
			type: 'string',
			required: true,
			displayOptions: routingIs('connection'),
			default: '',
			placeholder: 'e.g. pcon_01HXYZ',
			description: 'The ID of the Twilio or Telnyx connection from the Kallglot portal',
		},
		{
			displayName: 'SIP From URI',
			name: 'sipFromUri',
			type: 'string',
			displayOptions: routingIs('sip'),
			default: '',
			placeholder: 'e.g. sip:alice@example.com',
			description: 'The SIP From URI, when known at creation time',
		},
		{
			displayName: 'SIP Headers',
			name: 'sipHeaders',
			type: 'fixedCollection',
			placeholder: 'Add Header',
			typeOptions: { multipleValues: true },
			displayOptions: routingIs('sip'),
			default: {},
			description: 'X- headers attached to the SIP dialog',
			options: [
				{
					displayName: 'Header',
					name: 'header',
					values: [
						{ displayName: 'Name', name: 'name', type: 'string', default: '', placeholder: 'e.g. X-Customer-ID' },
						{ displayName: 'Value', name: 'value', type: 'string', default: '' },
					],
				},
			],
		},
		{
			displayName: 'Call Direction',
			name: 'direction',
			type: 'options',
			displayOptions: withShow(show, { routing: ['phoneNumber', 'connection', 'sip'] }),
			default: '',
			options: [
				{ name: 'Not Set', value: '' },
				...CALL_DIRECTIONS.map((d) => ({ name: d === 'inbound' ? 'Inbound' : 'Outbound', value: d })),
			],
			description: 'Optional hint whether the call comes in or goes out',
		},
		metadataField(withShow(show), 'Key/value pairs stored on the session and echoed back, e.g. your CRM contact ID'),
		{
			displayName: 'Audio',
			name: 'audio',
			type: 'collection',
			placeholder: 'Add Audio Setting',
			displayOptions: withShow(show),
			default: {},
			description: 'Format of the call audio. Nothing is sent unless you add a setting.',
			options: [
				{ displayName: 'Channels', name: 'channels', type: 'number', default: 1, typeOptions: { minValue: 1, maxValue: 2 } },
				{ displayName: 'Encoding', name: 'encoding', type: 'string', default: 'mulaw', placeholder: 'e.g. mulaw' },
				{
					displayName: 'Sample Rate',
					name: 'sampleRate',
					type: 'number',
					default: 8000,
					hint: 'In Hz',
					typeOptions: { minValue: 1 },
				},
			],
		},
		{
			displayName: 'Voice',
			name: 'voice',
			type: 'collection',
			placeholder: 'Add Voice Setting',
			displayOptions: withShow(show),
			default: {},
			description: 'The voice of translated speech. Nothing is sent unless you add a setting.',
			options: [
				{
					displayName: 'Similarity Boost',
					name: 'similarityBoost',
					type: 'number',
					default: 0.75,
					typeOptions: { minValue: 0, maxValue: 1, numberPrecision: 2 },
					description: 'How closely the voice keeps its character, from 0 to 1',
				},
				{
					displayName: 'Speed',
					name: 'speed',
					type: 'number',
					default: 1,
					typeOptions: { minValue: 0.5, maxValue: 2, numberPrecision: 2 },
					description: 'Playback speed multiplier, from 0.5 to 2',
				},
				{
					displayName: 'Stability',
					name: 'stability',
					type: 'number',
					default: 0.5,
					typeOptions: { minValue: 0, maxValue: 1, numberPrecision: 2 },
					description: 'How steady the voice sounds, from 0 to 1',
				},
				{
					displayName: 'Voice ID',
					name: 'voiceId',
					type: 'options',
					default: 'alloy',
					description: 'Kallglot voice for translated speech. Use an expression for another voice.',
					options: ['alloy', 'echo', 'fable', 'nova', 'onyx'].map((v) => ({ name: v[0].toUpperCase() + v.slice(1), value: v })),
				},
			],
		},
		{
			displayName: 'Recording',
			name: 'recording',
			type: 'collection',
			placeholder: 'Add Recording Setting',
			displayOptions: withShow(show),
			default: {},
			description: 'Whether and how the session is recorded. Nothing is sent unless you add a setting.',
			options: [
				{
					displayName: 'Consent Required',
					name: 'consentRequired',
					type: 'boolean',
					default: false,
					description: 'Whether recording downloads require a granted consent state',
				},
				{
					displayName: 'Consent State',
					name: 'consentState',
					type: 'options',
					default: 'not_required',
					options: CONSENT_STATES.map((s) => ({
						name: { granted: 'Granted', denied: 'Denied', not_required: 'Not Required' }[s],
						value: s,
					})),
				},
				{ displayName: 'Enabled', name: 'enabled', type: 'boolean', default: true, description: 'Whether the session is recorded' },
				{
					displayName: 'Mix Mode',
					name: 'mixMode',
					type: 'options',
					default: 'dual_channel',
					options: RECORDING_MIX_MODES.map((m) => ({
						name: m === 'dual_channel' ? 'Dual Channel (Agent and Customer on Separate Channels)' : 'Mixed',
						value: m,
					})),
				},
			],
		},
		{
			displayName: 'Additional Options',
			name: 'additionalOptions',
			type: 'collection',
			placeholder: 'Add Option',
			displayOptions: withShow(show),
			default: {},
			options: [
				{
					displayName: 'Additional Body Fields (JSON)',
					name: 'additionalBodyFields',
					type: 'json',
					default: '{}',
					description:
						'Fields this node does not model yet, merged last into the request body (they win over the fields above)',
				},
				{
					displayName: 'Agent Overrides (JSON)',
					name: 'agentOverrides',
					type: 'json',
					default: '{}',
					displayOptions: { show: { '/mode': AGENT_MODES } },
					description: "Per-session agent overrides that your organization's policy allows",
				},
				allowedDestinationsOption(
					'Refuse a Phone Number outside these prefixes before anything is sent (e.g. when an AI agent fills it in)',
					{ displayOptions: { show: { '/routing': ['phoneNumber'] } } },
				),
				...(idempotencyKey ? [idempotencyKeyOption] : []),
				{
					displayName: 'Metadata (JSON)',
					name: 'metadataJson',
					type: 'json',
					default: '{}',
					description: 'Metadata as a JSON object, merged over the Metadata pairs',
				},
			],
		},
	];
}

/** Reads a parameter for the current item (action node) or the node (trigger). */
export type ParameterReader = (name: string, fallback: unknown) => unknown;

const blankToUndefined = (value: unknown) => (value === '' || value === null ? undefined : value);

function pairs(value: unknown, group: string, keyName: string): Array<[string, string]> {
	const list = ((value as IDataObject | undefined)?.[group] ?? []) as IDataObject[];
	return list
		.filter((entry) => String(entry[keyName] ?? '').trim() !== '')
		.map((entry) => [String(entry[keyName]).trim(), String(entry.value ?? '')]);
}

/** Collects the Create Session parameters and validates them; throws before anything is sent. */
export function readCreateSessionInput(
	getParameter: ParameterReader,
	node: INode,
	itemIndex: number,
): CreateSessionInput {
	const mode = getParameter('mode', 'bidirectional_translation') as string;
	const routingMethod = getParameter('routing', 'default') as string;
	const options = getParameter('additionalOptions', {}) as IDataObject;
	const json = (name: string, label: string, example: string) =>
		parseJsonObject(options[name], label, example, node, itemIndex);

	const direction = routingMethod === 'default' ? undefined : blankToUndefined(getParameter('direction', ''));
	const routing: Record<string, unknown> = { method: routingMethod, direction };
	if (routingMethod === 'phoneNumber') routing.phoneNumber = getParameter('phoneNumber', '');
	if (routingMethod === 'connection') routing.connectionId = getParameter('connectionId', '');
	if (routingMethod === 'sip') {
		routing.fromUri = blankToUndefined(getParameter('sipFromUri', ''));
		const headers = pairs(getParameter('sipHeaders', {}), 'header', 'name');
		routing.headers = headers.length ? Object.fromEntries(headers) : undefined;
	}

	const metadataPairs = Object.fromEntries(pairs(getParameter('metadata', {}), 'entry', 'key'));
	const metadata = { ...metadataPairs, ...json('metadataJson', 'Metadata (JSON)', '{"customer_id": "123"}') };

	// Read whatever the parameters hold, so an agent left on a non-agent mode (e.g. in imported
	// workflow JSON) is reported instead of silently dropped.
	const agentParameter = getParameter('agent', '');
	const agentId = blankToUndefined(
		typeof agentParameter === 'object' && agentParameter !== null && 'value' in agentParameter
			? (agentParameter as { value: unknown }).value
			: agentParameter,
	);
	const overrides = AGENT_MODES.includes(mode) ? json('agentOverrides', 'Agent Overrides (JSON)', '{"greeting": "Hello!"}') : undefined;
	const aiAgent = agentId === undefined ? undefined : { agentId, overrides };

	const input = {
		mode,
		sourceLanguage: blankToUndefined(getParameter('sourceLanguage', AUTO_DETECT)),
		targetLanguage: blankToUndefined(getParameter('targetLanguage', AUTO_DETECT)),
		routing,
		audio: blankCollection(getParameter('audio', {})),
		voice: blankCollection(getParameter('voice', {})),
		recording: blankCollection(getParameter('recording', {})),
		aiAgent,
		metadata: Object.keys(metadata).length ? metadata : undefined,
		additionalFields: json('additionalBodyFields', 'Additional Body Fields (JSON)', '{"new_field": "value"}'),
	};
	const valid = validateParameters(createSessionInput, input, node, itemIndex);
	if (valid.routing.method === 'phoneNumber') {
		checkDestination(valid.routing.phoneNumber, 'Phone Number', options.allowedDestinations, node, itemIndex);
	}
	return valid;
}

function blankCollection(value: unknown): IDataObject | undefined {
	const entries = Object.entries((value ?? {}) as IDataObject).filter(([, v]) => v !== '' && v !== undefined);
	return entries.length ? Object.fromEntries(entries) : undefined;
}
