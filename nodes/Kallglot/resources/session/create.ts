import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { resolveIdempotencyKey } from '../../../shared/fields/idempotency';
import { createSessionFields, readCreateSessionInput, type ParameterReader } from '../../../shared/session/createSession';
import type { KallglotApi } from '../../../shared/api';
import { toCreateSessionBody } from '../../../shared/wire';

export const description = createSessionFields({ resource: ['session'], operation: ['create'] });

export async function execute(this: IExecuteFunctions, itemIndex: number, api: KallglotApi): Promise<INodeExecutionData[]> {
	const getParameter: ParameterReader = (name, fallback) => this.getNodeParameter(name, itemIndex, fallback);
	const input = readCreateSessionInput(getParameter, this.getNode(), itemIndex);
	const options = this.getNodeParameter('additionalOptions', itemIndex, {}) as IDataObject;
	const session = await api.call('createSession', [], {
		body: toCreateSessionBody(input),
		idempotencyKey: resolveIdempotencyKey(options.idempotencyKey),
		itemIndex,
	});
	return [{ json: session, pairedItem: { item: itemIndex } }];
}
