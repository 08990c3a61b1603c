import type { INodeProperties } from 'n8n-workflow';

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
