import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import type { KallglotApi } from '../../../shared/api';
import { dialInput, toDialBody } from '../../../shared/wire';
import { allowedDestinationsOption, checkDestination } from '../../../shared/fields/destinations';
import { idempotencyOptions, resolveIdempotencyKey } from '../../../shared/fields/idempotency';
import { sessionIdField } from '../../../shared/fields/sessionId';
import { validateParameters } from '../../../shared/fields/validation';

const show = { resource: ['session'], operation: ['dial'] };

export const description: INodeProperties[] = [
	sessionIdField({ resource: ['session'], operation: ['dial'] }),
	{
		displayName: 'To',
		name: 'to',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'e.g. +14155551234',
		hint: 'E.164: +, country code and number, no spaces',
		description: 'The phone number to call',
		displayOptions: { show },
	},
	idempotencyOptions(show, [
		allowedDestinationsOption(
			'Refuse numbers outside these prefixes before anything is sent (e.g. when an AI agent chooses the number)',
		),
	]),
];

/** Places the session's outbound call. */
export async function execute(this: IExecuteFunctions, itemIndex: number, api: KallglotApi): Promise<INodeExecutionData[]> {
	const input = validateParameters(
		dialInput,
		{ sessionId: this.getNodeParameter('sessionId', itemIndex), to: this.getNodeParameter('to', itemIndex) },
		this.getNode(),
		itemIndex,
	);
	const options = this.getNodeParameter('options', itemIndex, {}) as IDataObject;
	checkDestination(input.to, 'To', options.allowedDestinations, this.getNode(), itemIndex);
	// Not retried on a 502 (the dial failed: a retry would ring the person again): RETRY.dial.
	const session = await api.call('dialSession', [input.sessionId], {
		body: toDialBody(input),
		idempotencyKey: resolveIdempotencyKey(options.idempotencyKey),
		itemIndex,
	});
	return [{ json: session, pairedItem: { item: itemIndex } }];
}
