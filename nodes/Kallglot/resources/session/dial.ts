import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { kallglotApiRequest } from '../../../shared/transport';
import { dialInput, paths, toDialBody } from '../../../shared/wire';
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

// A 502 means the SIP dial failed: retrying would ring the person again, so only transient
// statuses that cannot have placed a call are retried.
const DIAL_RETRY_ON: ReadonlySet<number> = new Set([409, 429, 503, 504]);

/** Places the session's outbound call. */
export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const input = validateParameters(
		dialInput,
		{ sessionId: this.getNodeParameter('sessionId', itemIndex), to: this.getNodeParameter('to', itemIndex) },
		this.getNode(),
		itemIndex,
	);
	const options = this.getNodeParameter('options', itemIndex, {}) as IDataObject;
	checkDestination(input.to, 'To', options.allowedDestinations, this.getNode(), itemIndex);
	const session = await kallglotApiRequest.call(this, {
		method: 'POST',
		path: paths.dial(input.sessionId),
		scope: 'sessions:write',
		body: toDialBody(input),
		idempotencyKey: resolveIdempotencyKey(options.idempotencyKey),
		retryOn: DIAL_RETRY_ON,
		itemIndex,
	});
	return [{ json: session, pairedItem: { item: itemIndex } }];
}
