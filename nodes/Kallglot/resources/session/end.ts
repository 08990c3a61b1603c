import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import type { KallglotApi } from '../../../shared/api';
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
export async function execute(this: IExecuteFunctions, itemIndex: number, api: KallglotApi): Promise<INodeExecutionData[]> {
	const id = readSessionId(this, itemIndex);
	const options = this.getNodeParameter('options', itemIndex, {}) as IDataObject;
	const summary = await api.call('endSession', [id], { idempotencyKey: resolveIdempotencyKey(options.idempotencyKey), itemIndex });
	return [{ json: summary, pairedItem: { item: itemIndex } }];
}
