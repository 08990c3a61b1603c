/**
 * Turning bad parameters into errors a builder can act on: which field, what value, how to fix.
 * Every operation validates with the zod schemas of ../../shared/wire before sending anything.
 */
import type { INode, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import type { ZodType, ZodTypeDef } from 'zod';

/**
 * Parameter paths of the schemas, as the builder sees them in the node's panel. A top-level
 * parameter missing here is named by the display name in the fields the caller passes (an
 * operation passes its description): a new operation needs no entry.
 */
const FIELD_LABELS: Record<string, string> = {
	mode: 'Mode',
	sourceLanguage: 'Source Language',
	targetLanguage: 'Target Language',
	'routing.method': 'Routing',
	'routing.phoneNumber': 'Phone Number',
	'routing.connectionId': 'Provider Connection ID',
	'routing.fromUri': 'SIP From URI',
	'routing.headers': 'SIP Headers',
	'routing.direction': 'Call Direction',
	'audio.encoding': 'Audio › Encoding',
	'audio.sampleRate': 'Audio › Sample Rate',
	'audio.channels': 'Audio › Channels',
	'voice.voiceId': 'Voice › Voice ID',
	'voice.stability': 'Voice › Stability',
	'voice.similarityBoost': 'Voice › Similarity Boost',
	'voice.speed': 'Voice › Speed',
	'recording.enabled': 'Recording › Enabled',
	'recording.mixMode': 'Recording › Mix Mode',
	'recording.consentRequired': 'Recording › Consent Required',
	'recording.consentState': 'Recording › Consent State',
	'aiAgent.agentId': 'Agent',
	'aiAgent.overrides': 'Agent Overrides (JSON)',
	metadata: 'Metadata',
	additionalFields: 'Additional Body Fields (JSON)',
	sessionId: 'Session ID',
	to: 'To',
	limit: 'Limit',
	recordingId: 'Recording ID',
	binaryPropertyName: 'Put Output File in Field',
	analysisId: 'Analysis ID',
	profile: 'Profile',
	include: 'Include',
	maxWaitSeconds: 'Max Wait',
	inputBinaryField: 'Input Binary Field',
	monoSpeaker: 'Mono File Speaker',
	stereoLayout: 'Stereo File Channels',
	maxDurationMinutes: 'Max Duration (Minutes)',
	quietPeriodSeconds: 'Quiet Period (Seconds)',
};

function labelFor(path: ReadonlyArray<string | number>, fields: readonly INodeProperties[]): string {
	for (let n = path.length; n > 0; n--) {
		const key = path.slice(0, n).join('.');
		const label = FIELD_LABELS[key] ?? (n === 1 ? fields.find((field) => field.name === key)?.displayName : undefined);
		if (label) return n === path.length ? label : `${label} › ${path.slice(n).join('.')}`;
	}
	return path.join('.') || 'Parameters';
}

function valueAt(input: unknown, path: ReadonlyArray<string | number>): unknown {
	let value: unknown = input;
	for (const key of path) {
		if (value === null || typeof value !== 'object') return undefined;
		value = (value as Record<string | number, unknown>)[key];
	}
	return value;
}

function show(value: unknown): string {
	if (value === undefined) return '(empty)';
	const text = typeof value === 'string' ? `"${value}"` : JSON.stringify(value);
	return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

/**
 * Parses `input` with `schema`, or throws a NodeOperationError for the first bad field, named as
 * the panel names it (`fields`: the operation's parameters).
 */
export function validateParameters<Out>(
	schema: ZodType<Out, ZodTypeDef, unknown>,
	input: unknown,
	node: INode,
	itemIndex: number,
	fields: readonly INodeProperties[] = [],
): Out {
	const result = schema.safeParse(input);
	if (result.success) return result.data;
	const issues = result.error.issues;
	const first = issues[0];
	const label = labelFor(first.path, fields);
	const value = valueAt(input, first.path);
	const problems = issues.map((issue) => `${labelFor(issue.path, fields)} ${issue.message}`);
	return fail(node, itemIndex, `Invalid ${label} ${show(value)}: ${first.message}`, problems);
}

function fail(node: INode, itemIndex: number, message: string, problems: string[]): never {
	throw new NodeOperationError(node, message, {
		itemIndex,
		description:
			(problems.length > 1 ? `All problems: ${problems.join('; ')}. ` : '') +
			'Nothing was sent to Kallglot for this item. Fix the field and run again.',
	});
}

/**
 * A JSON parameter as an object: accepts an object (from an expression) or JSON text; empty
 * means "not set". Anything else names the field and shows what a valid value looks like.
 */
export function parseJsonObject(
	value: unknown,
	label: string,
	example: string,
	node: INode,
	itemIndex: number,
): Record<string, unknown> | undefined {
	if (value === undefined || value === null || value === '') return undefined;
	let parsed: unknown = value;
	if (typeof value === 'string') {
		if (value.trim() === '') return undefined;
		try {
			parsed = JSON.parse(value);
		} catch (error) {
			throw new NodeOperationError(
				node,
				`Invalid ${label} ${show(value)}: not valid JSON (${(error as Error).message})`,
				{ itemIndex, description: `Write a JSON object, e.g. ${example}. Nothing was sent to Kallglot for this item.` },
			);
		}
	}
	if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
		throw new NodeOperationError(node, `Invalid ${label} ${show(value)}: must be a JSON object`, {
			itemIndex,
			description: `Write a JSON object, e.g. ${example}. Nothing was sent to Kallglot for this item.`,
		});
	}
	return Object.keys(parsed).length ? (parsed as Record<string, unknown>) : undefined;
}
