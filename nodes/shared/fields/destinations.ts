/**
 * Allowed Destinations: a builder's guard for a node an AI agent can drive. Numbers outside the
 * listed E.164 prefixes are refused before any request, so no call is placed and nothing billed.
 */
import type { INode, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

const PREFIX = /^\+\d{1,15}$/;

export const allowedDestinationsOption = (description: string, extra: Partial<INodeProperties> = {}): INodeProperties => ({
	displayName: 'Allowed Destinations',
	name: 'allowedDestinations',
	type: 'string',
	default: '',
	placeholder: 'e.g. +1, +34',
	hint: 'Comma-separated E.164 prefixes. Empty: any number.',
	description,
	...extra,
});

/** The prefixes of an Allowed Destinations value; empty when the option is not set. */
function parseAllowedDestinations(value: unknown, node: INode, itemIndex: number): string[] {
	if (value === undefined || value === null || String(value).trim() === '') return [];
	const prefixes = String(value)
		.split(/[,;\s]+/)
		.map((p) => p.trim())
		.filter(Boolean);
	const bad = prefixes.find((p) => !PREFIX.test(p));
	if (bad !== undefined) {
		throw new NodeOperationError(node, `Invalid Allowed Destinations "${String(value)}": "${bad}" is not an E.164 prefix`, {
			itemIndex,
			description:
				'Write "+" and the leading digits of the numbers to allow, separated by commas, e.g. +1, +34, +4930. Nothing was sent to Kallglot for this item.',
		});
	}
	return prefixes;
}

/** Throws unless `number` (already a valid E.164 number) starts with one of the allowed prefixes. */
export function checkDestination(
	number: string,
	field: string,
	allowed: unknown,
	node: INode,
	itemIndex: number,
): void {
	const prefixes = parseAllowedDestinations(allowed, node, itemIndex);
	if (prefixes.length === 0 || prefixes.some((prefix) => number.startsWith(prefix))) return;
	throw new NodeOperationError(
		node,
		`${field} "${number}" is not an allowed destination (Allowed Destinations: ${prefixes.join(', ')})`,
		{
			itemIndex,
			description: `Nothing was sent to Kallglot for this item. Use a number starting with ${prefixes.join(' or ')}, or add its prefix to the option Allowed Destinations.`,
		},
	);
}
