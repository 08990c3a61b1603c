import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import type { KallglotApi } from '../../../shared/api';
import { analysisRef } from '../../../shared/wire';
import { validateParameters } from '../../../shared/fields/validation';

export const description: INodeProperties[] = [
	{
		displayName: 'Analysis ID',
		name: 'analysisId',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'e.g. anl_01HXYZ123456789',
		description: 'The ID returned by Analysis → Create, or from the analysis.complete webhook event',
		displayOptions: { show: { resource: ['analysis'], operation: ['get'] } },
	},
];

/** The analysis as Kallglot has it now: processing, completed (with results) or failed. */
export async function execute(this: IExecuteFunctions, itemIndex: number, api: KallglotApi): Promise<INodeExecutionData[]> {
	const { analysisId } = validateParameters(
		analysisRef,
		{ analysisId: this.getNodeParameter('analysisId', itemIndex) },
		this.getNode(),
		itemIndex,
	);
	const analysis = await api.call('getAnalysis', [analysisId], { itemIndex });
	return [{ json: analysis, pairedItem: { item: itemIndex } }];
}
