import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { kallglotApiRequest } from '../../../shared/transport';
import { paths } from '../../../shared/wire';
import { readSessionId, sessionIdField } from '../../../shared/fields/sessionId';

export const description: INodeProperties[] = [sessionIdField({ resource: ['session'], operation: ['getTranscript'] })];

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const id = readSessionId(this, itemIndex);
	const transcript = await kallglotApiRequest.call(this, {
		method: 'GET',
		path: paths.transcript(id),
		scope: 'sessions:read',
		itemIndex,
	});
	return [{ json: transcript, pairedItem: { item: itemIndex } }];
}
