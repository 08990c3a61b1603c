import { randomUUID } from 'crypto';
import type { IDisplayOptions, INodeProperties } from 'n8n-workflow';

export const idempotencyKeyOption: INodeProperties = {
	displayName: 'Idempotency Key',
	name: 'idempotencyKey',
	type: 'string',
	default: '',
	placeholder: "e.g. {{ 'campaign-42-' + $json.contactId }}",
	description:
		'Makes the request safe to repeat: Kallglot answers a repeated key with the first result instead of doing it (and billing it) again. Leave empty for a new key per item and run; set an expression on your own ID (e.g. the CRM contact) so that re-running the workflow never repeats it.',
};

/** The user's key, or a fresh one for this item; retries within the run reuse it. */
export function resolveIdempotencyKey(value: unknown): string {
	return typeof value === 'string' && value.trim() !== '' ? value.trim() : randomUUID();
}

/** An Options collection with the Idempotency Key and `extra` options, sorted by name as n8n lists them. */
export const idempotencyOptions = (show: IDisplayOptions['show'], extra: INodeProperties[] = []): INodeProperties => ({
	displayName: 'Options',
	name: 'options',
	type: 'collection',
	placeholder: 'Add Option',
	default: {},
	displayOptions: { show },
	options: [...extra, idempotencyKeyOption].sort((a, b) => a.displayName.localeCompare(b.displayName)),
});
