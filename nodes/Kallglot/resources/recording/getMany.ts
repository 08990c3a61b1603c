import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { listRecordings } from '../../../shared/recordings';
import { readSessionId, sessionIdField } from '../../../shared/fields/sessionId';

export const description: INodeProperties[] = [
	sessionIdField(
		{ resource: ['recording'], operation: ['getMany'] },
		'The session whose recordings to list. Recordings exist for sessions created with recording enabled, a few seconds after they end.',
	),
];

/** One item per recording of the session (none while the session has no recordings yet). */
export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const sessionId = readSessionId(this, itemIndex);
	const recordings = await listRecordings.call(this, sessionId, { itemIndex });
	return recordings.map((recording) => ({ json: recording, pairedItem: { item: itemIndex } }));
}
