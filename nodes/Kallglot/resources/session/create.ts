import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { resolveIdempotencyKey } from '../../../shared/fields/idempotency';
import { createSessionFields, readCreateSessionInput, type ParameterReader } from '../../../shared/session/createSession';
import { kallglotApiRequest } from '../../../shared/transport';
import { paths, toCreateSessionBody } from '../../../shared/wire';

export const description = createSessionFields({ resource: ['session'], operation: ['create'] });

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const getParameter: ParameterReader = (name, fallback) => this.getNodeParameter(name, itemIndex, fallback);
	const input = readCreateSessionInput(getParameter, this.getNode(), itemIndex);
	const options = this.getNodeParameter('additionalOptions', itemIndex, {}) as IDataObject;
	const session = await kallglotApiRequest.call(this, {
		method: 'POST',
		path: paths.sessions,
		scope: 'sessions:write',
		body: toCreateSessionBody(input) as IDataObject,
		idempotencyKey: resolveIdempotencyKey(options.idempotencyKey),
		itemIndex,
	});
	return [{ json: session, pairedItem: { item: itemIndex } }];
}
