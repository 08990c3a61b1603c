import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { getRecording } from '../../../shared/recordings';
import { readRecordingId, recordingIdField } from './recordingId';

export const description: INodeProperties[] = [recordingIdField('get')];

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const recordingId = readRecordingId(this, itemIndex);
	const recording = await getRecording.call(this, recordingId, { itemIndex });
	return [{ json: recording, pairedItem: { item: itemIndex } }];
}
