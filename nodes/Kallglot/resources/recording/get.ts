import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import type { KallglotApi } from '../../../shared/api';
import { readRecordingId, recordingIdField } from './recordingId';

export const description: INodeProperties[] = [recordingIdField('get')];

export async function execute(this: IExecuteFunctions, itemIndex: number, api: KallglotApi): Promise<INodeExecutionData[]> {
	const recordingId = readRecordingId(this, itemIndex);
	const recording = await api.call('getRecording', [recordingId], { itemIndex });
	return [{ json: recording, pairedItem: { item: itemIndex } }];
}
