import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import { sessionRef } from '../../shared/wire';
import { validateParameters } from './validation';

export const sessionIdField = (operation: string): INodeProperties => ({
	displayName: 'Session ID',
	name: 'sessionId',
	type: 'string',
	required: true,
	default: '',
	placeholder: 'e.g. sess_01HXYZ123456789',
	description: 'The ID returned by Session → Create (Kallglot has no endpoint to list sessions)',
	displayOptions: { show: { resource: ['session'], operation: [operation] } },
});

/** The item's Session ID, validated before any request. */
export function readSessionId(ctx: IExecuteFunctions, itemIndex: number): string {
	const input = { sessionId: ctx.getNodeParameter('sessionId', itemIndex) };
	return validateParameters(sessionRef, input, ctx.getNode(), itemIndex).sessionId;
}
