/**
 * Translate Audio's parameters: read for one item, validated with zod before anything is decoded
 * or sent. The session body is built by the same code as Session → Create (wire.ts).
 */
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { z } from 'zod';

import { SPEAKERS, STEREO_LAYOUTS } from '../../../shared/audio/prepare';
import { AUTO_DETECT } from '../../../shared/fields/languages';
import { parseJsonObject, validateParameters } from '../../../shared/fields/validation';

export const TRANSLATION_MODES = ['bidirectional_translation', 'assistive_translation'] as const;
/** A default that keeps a voicemail's run short and a forgotten hour-long file from streaming by accident. */
export const DEFAULT_MAX_DURATION_MINUTES = 30;
export const DEFAULT_QUIET_SECONDS = 3;

const LANGUAGE_CODE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
const language = z.string().trim().regex(LANGUAGE_CODE, 'must be a language code such as en, es, de or pt-BR').optional();

export const translateAudioInput = z.object({
	inputBinaryField: z.string().trim().min(1, 'must name the binary property that holds the audio file (e.g. data)'),
	mode: z.enum(TRANSLATION_MODES, { errorMap: () => ({ message: 'must be Bidirectional Translation or Assistive Translation' }) }),
	sourceLanguage: language,
	targetLanguage: language,
	monoSpeaker: z.enum(SPEAKERS, { errorMap: () => ({ message: 'must be customer or agent' }) }),
	stereoLayout: z.enum(STEREO_LAYOUTS, { errorMap: () => ({ message: `must be one of ${STEREO_LAYOUTS.join(', ')}` }) }),
	metadata: z.record(z.unknown()).optional(),
	idempotencyKey: z.string().optional(),
	maxDurationMinutes: z
		.number({ invalid_type_error: 'must be a number of minutes' })
		.positive('must be more than 0 minutes')
		.max(24 * 60, 'must be at most 1440 minutes (24 hours)'),
	quietPeriodSeconds: z
		.number({ invalid_type_error: 'must be a number of seconds' })
		.min(0.5, 'must be at least 0.5 seconds')
		.max(60, 'must be at most 60 seconds'),
	outputPerTurn: z.boolean(),
});
export type TranslateAudioInput = z.infer<typeof translateAudioInput>;

function pairs(value: unknown): Array<[string, string]> {
	const list = ((value as IDataObject | undefined)?.entry ?? []) as IDataObject[];
	return list.filter((e) => String(e.key ?? '').trim() !== '').map((e) => [String(e.key).trim(), String(e.value ?? '')]);
}

const blank = (value: unknown) => (value === '' || value === null ? undefined : value);

export function readTranslateAudioInput(ctx: IExecuteFunctions, itemIndex: number): TranslateAudioInput {
	const node = ctx.getNode();
	const options = ctx.getNodeParameter('options', itemIndex, {}) as IDataObject;
	const metadata = {
		...Object.fromEntries(pairs(ctx.getNodeParameter('metadata', itemIndex, {}))),
		...parseJsonObject(options.metadataJson, 'Metadata (JSON)', '{"customer_id": "123"}', node, itemIndex),
	};
	return validateParameters(
		translateAudioInput,
		{
			inputBinaryField: ctx.getNodeParameter('binaryPropertyName', itemIndex, 'data'),
			mode: ctx.getNodeParameter('mode', itemIndex, 'bidirectional_translation'),
			sourceLanguage: blank(ctx.getNodeParameter('sourceLanguage', itemIndex, AUTO_DETECT)),
			targetLanguage: blank(ctx.getNodeParameter('targetLanguage', itemIndex, AUTO_DETECT)),
			monoSpeaker: ctx.getNodeParameter('monoSpeaker', itemIndex, 'customer'),
			stereoLayout: ctx.getNodeParameter('stereoChannels', itemIndex, 'leftAgentRightCustomer'),
			metadata: Object.keys(metadata).length ? metadata : undefined,
			idempotencyKey: blank(options.idempotencyKey),
			maxDurationMinutes: options.maxDurationMinutes ?? DEFAULT_MAX_DURATION_MINUTES,
			quietPeriodSeconds: options.quietPeriodSeconds ?? DEFAULT_QUIET_SECONDS,
			outputPerTurn: (ctx.getNodeParameter('output', itemIndex, 'session') as string) === 'turns',
		},
		node,
		itemIndex,
	);
}
