import type {
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IHttpRequestOptions,
	INodeProperties,
} from 'n8n-workflow';

import { checkBaseUrl, DEFAULT_BASE_URL } from '../nodes/shared/baseUrl';

/** What the credential test says per error code Kallglot answers a key check with, and what to do. */
export const CREDENTIAL_TEST_MESSAGES: Record<string, string> = {
	invalid_api_key:
		'Kallglot 401 invalid_api_key: the API key is not valid. Copy the key again from the Kallglot developer portal (sk_live_… or sk_test_…), without spaces.',
	expired_api_key:
		'Kallglot 401 expired_api_key: the API key has expired. Create a new key in the Kallglot developer portal and paste it here.',
	revoked_api_key:
		'Kallglot 401 revoked_api_key: the API key was revoked. Create a new key in the Kallglot developer portal and paste it here.',
	organization_inactive:
		'Kallglot 403 organization_inactive: the key is valid but its organization is inactive. Reactivate the organization in the Kallglot portal.',
	rate_limit_exceeded: 'Kallglot 429 rate_limit_exceeded: the key works but is rate limited right now. Test again in a minute.',
};

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
				'Change only for another region or a Kallglot sandbox. Must be https://; plain http:// only for localhost, or for a sandbox key (sk_sandbox_…), e.g. a sandbox on the Docker host.',
		},
	];

	// A function rather than the generic header rule: it also refuses to send a Kallglot key to a
	// non-loopback http:// URL (see baseUrl.ts), for the credential test and every node request alike.
	authenticate = async (
		credentials: ICredentialDataDecryptedObject,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> => {
		checkBaseUrl(credentials.baseUrl, credentials.apiKey);
		return {
			...requestOptions,
			headers: { ...requestOptions.headers, Authorization: `Bearer ${credentials.apiKey as string}` },
		};
	};

	// The cheapest authenticated read: one agent. n8n's tester reports any HTTP error as a bare
	// status text ("Unauthorized"), so the answer is read whatever its status, and the rules below
	// turn Kallglot's error codes into messages that say what to do. n8n checks them in order.
	test: ICredentialTestRequest = {
		request: {
			baseURL: `={{$credentials.baseUrl ? $credentials.baseUrl.replace(/\\/+$/, '') : '${DEFAULT_BASE_URL}'}}`,
			url: '/agents',
			qs: { limit: 1 },
			ignoreHttpStatusErrors: true,
		},
		rules: [
			...Object.entries(CREDENTIAL_TEST_MESSAGES).map(([code, message]) => ({
				type: 'responseSuccessBody' as const,
				properties: { key: 'error.code', value: code, message },
			})),
			// Anything but Kallglot's list of agents (another error, another server) fails the test.
			{
				type: 'responseSuccessBody',
				properties: {
					key: 'object',
					value: undefined,
					message:
						'Kallglot did not answer with a list of agents. Check the Base URL (e.g. https://api.kallglot.com/v1) and the API key.',
				},
			},
		],
	};
}
