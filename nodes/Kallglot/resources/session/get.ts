import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { kallglotApiRequest } from '../../../shared/transport';
import { paths } from '../../../shared/wire';
import { readSessionId, sessionIdField } from '../../../shared/fields/sessionId';

export const description: INodeProperties[] = [sessionIdField({ resource: ['session'], operation: ['get'] })];

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const id = readSessionId(this, itemIndex);
	const session = await kallglotApiRequest.call(this, {
		method: 'GET',
		path: paths.session(id),
		scope: 'sessions:read',
		itemIndex,
	});
	return [{ json: session, pairedItem: { item: itemIndex } }];
}
