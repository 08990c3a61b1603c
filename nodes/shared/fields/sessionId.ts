import type { IDisplayOptions, IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import { sessionRef } from '../wire';
import { validateParameters } from './validation';

/** The Session ID field, shown where `show` says (the trigger uses it too, with its own description). */
export const sessionIdField = (
	show: IDisplayOptions['show'],
	description = 'The ID returned by Session → Create (Kallglot has no endpoint to list sessions)',
): INodeProperties => ({
	displayName: 'Session ID',
	name: 'sessionId',
	type: 'string',
	required: true,
	default: '',
	placeholder: 'e.g. sess_01HXYZ123456789',
	description,
	displayOptions: { show },
});

/** The item's Session ID, validated before any request. */
export function readSessionId(ctx: IExecuteFunctions, itemIndex: number): string {
	const input = { sessionId: ctx.getNodeParameter('sessionId', itemIndex) };
	return validateParameters(sessionRef, input, ctx.getNode(), itemIndex).sessionId;
}
