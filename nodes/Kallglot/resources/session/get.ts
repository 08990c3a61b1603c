import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import type { KallglotApi } from '../../../shared/api';
import { readSessionId, sessionIdField } from '../../../shared/fields/sessionId';

export const description: INodeProperties[] = [sessionIdField({ resource: ['session'], operation: ['get'] })];

export async function execute(this: IExecuteFunctions, itemIndex: number, api: KallglotApi): Promise<INodeExecutionData[]> {
	const id = readSessionId(this, itemIndex);
	const session = await api.call('getSession', [id], { itemIndex });
	return [{ json: session, pairedItem: { item: itemIndex } }];
}
