import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import { z } from 'zod';

import type { KallglotApi } from '../../../shared/api';
import { waitForAnalysis, type Analysis, type WaitOutcome } from '../../../shared/analyses';
import { errorText } from '../../../shared/recordings';
import { ANALYSIS_INCLUDES, createAnalysisInput, toCreateAnalysisBody } from '../../../shared/wire';
import { idempotencyOptions, resolveIdempotencyKey } from '../../../shared/fields/idempotency';
import { sessionIdField } from '../../../shared/fields/sessionId';
import { validateParameters } from '../../../shared/fields/validation';

const show = { resource: ['analysis'], operation: ['create'] };

export const MAX_WAIT_SECONDS = 900;
const INCLUDE_NAMES: Record<(typeof ANALYSIS_INCLUDES)[number], string> = {
	summary: 'Summary',
	sentiment: 'Sentiment',
	compliance: 'Compliance',
	keywords: 'Keywords',
	performance: 'Performance',
};

export const description: INodeProperties[] = [
	sessionIdField(show, 'The session to analyse, usually once it has ended'),
	{
		displayName: 'Profile',
		name: 'profile',
		type: 'string',
		default: 'default',
		placeholder: 'e.g. default',
		description: 'The analysis profile set up in Kallglot',
		displayOptions: { show },
	},
	{
		displayName: 'Include',
		name: 'include',
		type: 'multiOptions',
		default: [],
		options: ANALYSIS_INCLUDES.map((value) => ({ name: INCLUDE_NAMES[value], value })),
		description: "The parts of the analysis to produce. None selected means Kallglot's default set.",
		displayOptions: { show },
	},
	{
		displayName: 'Wait for Completion',
		name: 'waitForCompletion',
		type: 'boolean',
		default: false,
		description:
			'Whether to wait until the analysis is completed and return its results, instead of returning it while it is still processing',
		displayOptions: { show },
	},
	{
		displayName: 'Max Wait',
		name: 'maxWaitSeconds',
		type: 'number',
		default: 120,
		typeOptions: { minValue: 1, maxValue: MAX_WAIT_SECONDS },
		hint: 'In seconds, at most 900. The node fails with the analysis ID if it is still processing then.',
		description:
			'How long to wait at most. Kallglot is asked about 1, 2.5, 4.75 … s after the request, then every 15 s at most.',
		displayOptions: { show: { ...show, waitForCompletion: [true] } },
	},
	idempotencyOptions(show),
];

const maxWait = z.object({
	maxWaitSeconds: z
		.number({ invalid_type_error: 'must be a number of seconds' })
		.min(1, `must be between 1 and ${MAX_WAIT_SECONDS} seconds`)
		.max(MAX_WAIT_SECONDS, `must be between 1 and ${MAX_WAIT_SECONDS} seconds`),
});

/** Requests the analysis (billed once per Idempotency-Key) and, when asked, waits for its result. */
export async function execute(this: IExecuteFunctions, itemIndex: number, api: KallglotApi): Promise<INodeExecutionData[]> {
	const node = this.getNode();
	const profile = this.getNodeParameter('profile', itemIndex, 'default') as string;
	const input = validateParameters(
		createAnalysisInput,
		{
			sessionId: this.getNodeParameter('sessionId', itemIndex),
			profile: profile === '' ? undefined : profile,
			include: this.getNodeParameter('include', itemIndex, []),
		},
		node,
		itemIndex,
	);
	const wait = this.getNodeParameter('waitForCompletion', itemIndex, false) as boolean;
	const maxWaitSeconds = wait
		? validateParameters(maxWait, { maxWaitSeconds: this.getNodeParameter('maxWaitSeconds', itemIndex, 120) }, node, itemIndex)
				.maxWaitSeconds
		: 0;
	const options = this.getNodeParameter('options', itemIndex, {}) as IDataObject;

	// 202 with the analysis still processing; costs 1 credit, once per Idempotency-Key.
	const created = await api.call('createAnalysis', [input.sessionId], {
		body: toCreateAnalysisBody(input),
		idempotencyKey: resolveIdempotencyKey(options.idempotencyKey),
		itemIndex,
	});
	if (!wait) return [{ json: created, pairedItem: { item: itemIndex } }];

	const outcome = await waitForAnalysis(api, created, { maxWaitMs: maxWaitSeconds * 1000, itemIndex });
	if (outcome.timedOut) throw stillProcessing(this, outcome, maxWaitSeconds, itemIndex);
	if (outcome.analysis.status === 'failed') throw failed(this, outcome.analysis, itemIndex);
	return [{ json: outcome.analysis, pairedItem: { item: itemIndex } }];
}

function stillProcessing(ctx: IExecuteFunctions, outcome: WaitOutcome, maxWaitSeconds: number, itemIndex: number) {
	const { id } = outcome.analysis;
	const why = outcome.rateLimited ? " (Kallglot's rate limit stopped the polling)" : '';
	return new NodeOperationError(ctx.getNode(), `Analysis ${id} is still processing after the Max Wait of ${maxWaitSeconds} s${why}`, {
		itemIndex,
		description:
			`The analysis was requested (and billed) once and is still running at Kallglot. Get its result later with Analysis → Get and the ID ${id}, ` +
			`or raise Max Wait (up to ${MAX_WAIT_SECONDS} s). Running again with the same Idempotency Key returns this analysis without a new credit.`,
	});
}

function failed(ctx: IExecuteFunctions, analysis: Analysis, itemIndex: number) {
	const reason = errorText(analysis.error);
	return new NodeOperationError(ctx.getNode(), `Kallglot analysis ${analysis.id} failed${reason ? `: ${reason}` : ''}`, {
		itemIndex,
		description: 'Kallglot could not analyse this session. Check that the session has ended and has a transcript, then request a new analysis.',
	});
}
