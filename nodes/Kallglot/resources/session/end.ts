import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { kallglotApiRequest } from '../../../shared/transport';
import { paths, sessionRef } from '../../../shared/wire';
import { idempotencyKeyOption, resolveIdempotencyKey } from '../../shared/idempotency';
import { sessionIdField } from '../../shared/sessionId';
import { validateParameters } from '../../shared/validation';

export const description: INodeProperties[] = [
	sessionIdField('end'),
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
	const { sessionId: id } = validateParameters(
		sessionRef,
		{ sessionId: this.getNodeParameter('sessionId', itemIndex) },
		this.getNode(),
		itemIndex,
	);
	const options = this.getNodeParameter('options', itemIndex, {}) as IDataObject;
	const summary = await kallglotApiRequest.call(this, {
		method: 'POST',
		path: paths.endSession(id),
		idempotencyKey: resolveIdempotencyKey(options.idempotencyKey),
		itemIndex,
	});
	return [{ json: summary, pairedItem: { item: itemIndex } }];
}
