import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { kallglotApiRequest } from '../../../shared/transport';
import { paths, sessionRef } from '../../../shared/wire';
import { sessionIdField } from '../../shared/sessionId';
import { validateParameters } from '../../shared/validation';

export const description: INodeProperties[] = [sessionIdField('get')];

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const { sessionId: id } = validateParameters(
		sessionRef,
		{ sessionId: this.getNodeParameter('sessionId', itemIndex) },
		this.getNode(),
		itemIndex,
	);
	const session = await kallglotApiRequest.call(this, { method: 'GET', path: paths.session(id), itemIndex });
	return [{ json: session, pairedItem: { item: itemIndex } }];
}
