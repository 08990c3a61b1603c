import type { ICredentialDataDecryptedObject, IHttpRequestOptions } from 'n8n-workflow';

import { KallglotApi } from '../../credentials/KallglotApi.credentials';
import { KallglotSandbox } from '../../sandbox';

const credentialType = new KallglotApi();

/** Resolves the credential test's `={{ … }}` expressions the way n8n does for $credentials. */
function resolve(value: unknown, credentials: ICredentialDataDecryptedObject): unknown {
	if (typeof value !== 'string' || !value.startsWith('={{')) return value;
	const body = value.slice(3, -2);
	return new Function('$credentials', `return (${body});`)(credentials);
}

/** Runs the credential's own test request through its own authenticate, as n8n's tester does. */
async function testCredential(credentials: ICredentialDataDecryptedObject): Promise<number> {
	const { request } = credentialType.test;
	const url = `${resolve(request.baseURL, credentials) as string}${request.url as string}`;
	const options = await (credentialType.authenticate as (c: ICredentialDataDecryptedObject, o: IHttpRequestOptions) => Promise<IHttpRequestOptions>)(
		credentials,
		{ url, method: 'GET', qs: request.qs },
	);
	const query = new URLSearchParams(options.qs as Record<string, string>).toString();
	const response = await fetch(`${options.url}?${query}`, { headers: options.headers as Record<string, string> });
	return response.status;
}

let sandbox: KallglotSandbox;
beforeAll(async () => {
	sandbox = await KallglotSandbox.start();
});
afterAll(async () => {
	await sandbox.close();
});

describe('kallglotApi credential', () => {
	test('declares the fields and a Bearer authentication', async () => {
		expect(credentialType.name).toBe('kallglotApi');
		expect(credentialType.properties.map((p) => p.name)).toEqual(['apiKey', 'baseUrl']);
		expect(credentialType.properties[0].typeOptions?.password).toBe(true);
		expect(credentialType.properties[1].default).toBe('https://api.kallglot.com/v1');
	});

	test('its test request passes with the right key against the sandbox', async () => {
		expect(await testCredential({ apiKey: sandbox.apiKey, baseUrl: sandbox.baseUrl })).toBe(200);
		const test = sandbox.requests.at(-1);
		expect(test).toMatchObject({ method: 'GET', path: '/v1/agents', query: { limit: '1' } });
		expect(test?.headers.authorization).toBe(`Bearer ${sandbox.apiKey}`);
	});

	test('a trailing slash on the base URL is tolerated', async () => {
		expect(await testCredential({ apiKey: sandbox.apiKey, baseUrl: `${sandbox.baseUrl}/` })).toBe(200);
	});

	test('a wrong key fails it with 401', async () => {
		expect(await testCredential({ apiKey: 'sk_test_not_the_key', baseUrl: sandbox.baseUrl })).toBe(401);
	});

	test.each(['http://api.kallglot.com/v1', 'http://10.0.0.5:4010/v1', 'ftp://api.kallglot.com/v1'])(
		'refuses to send the key to %s',
		async (baseUrl) => {
			await expect(testCredential({ apiKey: 'sk_live_secret_123', baseUrl })).rejects.toThrow(/is not allowed.*https:\/\//);
		},
	);

	test.each(['http://localhost:4010/v1', 'http://127.0.0.1:4010/v1', 'http://[::1]:4010/v1', 'https://eu.api.kallglot.com/v1'])(
		'accepts %s',
		async (baseUrl) => {
			const options = await (credentialType.authenticate as (c: ICredentialDataDecryptedObject, o: IHttpRequestOptions) => Promise<IHttpRequestOptions>)(
				{ apiKey: 'sk_test_x', baseUrl },
				{ url: `${baseUrl}/agents` },
			);
			expect(options.headers?.Authorization).toBe('Bearer sk_test_x');
		},
	);
});
