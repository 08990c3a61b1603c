import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { kallglotApiRequest } from '../../../shared/transport';
import { paths } from '../../../shared/wire';
import { idempotencyKeyOption, resolveIdempotencyKey } from '../../../shared/fields/idempotency';
import { readSessionId, sessionIdField } from '../../../shared/fields/sessionId';

export const description: INodeProperties[] = [
	sessionIdField({ resource: ['session'], operation: ['end'] }),
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: { resource: ['session'], operation: ['end'] } },
		options: [idempotencyKeyOption],
	},
];

/** Ends the call, stops recording and billing. Ending an ended session returns its summary. */
export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const id = readSessionId(this, itemIndex);
	const options = this.getNodeParameter('options', itemIndex, {}) as IDataObject;
	const summary = await kallglotApiRequest.call(this, {
		method: 'POST',
		path: paths.endSession(id),
		scope: 'sessions:write',
		idempotencyKey: resolveIdempotencyKey(options.idempotencyKey),
		itemIndex,
	});
	return [{ json: summary, pairedItem: { item: itemIndex } }];
}
