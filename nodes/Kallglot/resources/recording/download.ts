import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import type { KallglotApi } from '../../../shared/api';
import { downloadRecording, recordingBinary } from '../../../shared/recordings';
import { downloadRecordingInput } from '../../../shared/wire';
import { validateParameters } from '../../../shared/fields/validation';
import { recordingIdField } from './recordingId';

export const description: INodeProperties[] = [
	recordingIdField('download'),
	{
		displayName: 'Put Output File in Field',
		name: 'binaryPropertyName',
		type: 'string',
		required: true,
		default: 'data',
		hint: 'The name of the output binary field to put the audio file in',
		displayOptions: { show: { resource: ['recording'], operation: ['download'] } },
	},
];

/**
 * The recording's metadata as JSON and its audio as binary data. The metadata is read first, so a
 * recording still processing or failed gets a clear error before any download is tried.
 */
export async function execute(this: IExecuteFunctions, itemIndex: number, api: KallglotApi): Promise<INodeExecutionData[]> {
	const input = validateParameters(
		downloadRecordingInput,
		{
			recordingId: this.getNodeParameter('recordingId', itemIndex),
			binaryPropertyName: this.getNodeParameter('binaryPropertyName', itemIndex, 'data'),
		},
		this.getNode(),
		itemIndex,
	);
	const { recording, file } = await downloadRecording(api, input.recordingId, { itemIndex });
	const binary = await recordingBinary.call(this, file);
	return [{ json: recording, binary: { [input.binaryPropertyName]: binary }, pairedItem: { item: itemIndex } }];
}
