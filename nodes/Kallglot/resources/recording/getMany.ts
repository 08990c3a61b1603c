import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import type { KallglotApi } from '../../../shared/api';
import { readSessionId, sessionIdField } from '../../../shared/fields/sessionId';

export const description: INodeProperties[] = [
	sessionIdField(
		{ resource: ['recording'], operation: ['getMany'] },
		'The session whose recordings to list. Recordings exist for sessions created with recording enabled, a few seconds after they end.',
	),
];

/** One item per recording of the session (none while the session has no recordings yet). */
export async function execute(this: IExecuteFunctions, itemIndex: number, api: KallglotApi): Promise<INodeExecutionData[]> {
	const sessionId = readSessionId(this, itemIndex);
	// Every page of Kallglot's list (one recording per channel for dual-channel sessions).
	const recordings = await api.list('listRecordings', [sessionId], { itemIndex });
	return recordings.map((recording) => ({ json: recording, pairedItem: { item: itemIndex } }));
}
