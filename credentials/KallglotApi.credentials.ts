import type {
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IHttpRequestOptions,
	INodeProperties,
} from 'n8n-workflow';

import { checkBaseUrl, DEFAULT_BASE_URL } from '../nodes/shared/baseUrl';

export class KallglotApi implements ICredentialType {
	name = 'kallglotApi';

	displayName = 'Kallglot API';

	documentationUrl = 'https://docs.kallglot.com/authentication';

	icon = { light: 'file:kallglot.svg', dark: 'file:kallglot.dark.svg' } as const;

	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			placeholder: 'e.g. sk_live_…',
			description:
				'Your Kallglot API key from the developer portal: sk_live_… for production, sk_test_… for testing',
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: DEFAULT_BASE_URL,
			placeholder: `e.g. ${DEFAULT_BASE_URL}`,
			description:
				'Change only for another region or a local Kallglot sandbox. Must be https:// (plain http:// only for localhost).',
		},
	];

	// A function rather than the generic header rule: it also refuses to send the key to a
	// non-loopback http:// URL, for the credential test and for every node request alike.
	authenticate = async (
		credentials: ICredentialDataDecryptedObject,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> => {
		checkBaseUrl(credentials.baseUrl);
		return {
			...requestOptions,
			headers: { ...requestOptions.headers, Authorization: `Bearer ${credentials.apiKey as string}` },
		};
	};

	// The cheapest authenticated read: one agent. A bad key answers 401.
	test: ICredentialTestRequest = {
		request: {
			baseURL: `={{$credentials.baseUrl ? $credentials.baseUrl.replace(/\\/+$/, '') : '${DEFAULT_BASE_URL}'}}`,
			url: '/agents',
			qs: { limit: 1 },
		},
	};
}
