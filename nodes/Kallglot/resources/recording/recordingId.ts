import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import { recordingRef } from '../../../shared/wire';
import { validateParameters } from '../../../shared/fields/validation';

export const recordingIdField = (operation: string): INodeProperties => ({
	displayName: 'Recording ID',
	name: 'recordingId',
	type: 'string',
	required: true,
	default: '',
	placeholder: 'e.g. rec_01HXYZ123456789',
	description: 'The ID from Recording → Get Many, or from the recording.ready webhook event',
	displayOptions: { show: { resource: ['recording'], operation: [operation] } },
});

export function readRecordingId(ctx: IExecuteFunctions, itemIndex: number): string {
	const input = { recordingId: ctx.getNodeParameter('recordingId', itemIndex) };
	return validateParameters(recordingRef, input, ctx.getNode(), itemIndex).recordingId;
}
