/**
 * Proxies as n8n users have them: the live trigger's WebSocket follows HTTP_PROXY / HTTPS_PROXY /
 * NO_PROXY exactly as n8n-core's REST calls do, through a REAL forward proxy on loopback (the
 * `proxy` package in its own process), on n8n-core's real TriggerContext.
 */
import { createServer, type AddressInfo } from 'node:net';

import { proxyFor, streamAgent } from '../../nodes/shared/proxy';
import { KallglotSandbox } from '../../sandbox';
import { activateTrigger, logLines } from '../helpers/trigger';
import { setProxyEnv, startForwardProxy, type ForwardProxy } from './helpers';
import { translateAudio } from '../audio/engine';
import { bursts, synthesize, wav } from '../audio/signals';

afterAll(() => setProxyEnv({}));

/** Activates a trigger that creates a session over REST on 127.0.0.1, plays its call, waits for an item. */
async function streamOneCall(sandbox: KallglotSandbox): Promise<string> {
	const trigger = await activateTrigger({
		parameters: { sessionSource: 'create', mode: 'bidirectional_translation' } as never,
		credentials: { apiKey: sandbox.apiKey, baseUrl: `http://127.0.0.1:${sandbox.port}/v1` },
	});
	try {
		const sessionId = [...sandbox.sessions.keys()].at(-1) as string;
		await sandbox.play(sessionId, { intervalMs: 5 });
		expect((await trigger.waitForItems(1))[0]).toMatchObject({ sessionId });
		expect(sandbox.handshakes.filter((h) => h.sessionId === sessionId && h.status === 101)).toHaveLength(1);
		return sessionId;
	} finally {
		await trigger.close();
	}
}

describe('which proxy a URL gets (the variables n8n reads)', () => {
	const STREAM = 'wss://api.kallglot.com/v1/sessions/sess_1/connect?token=kst_x';

	test.each([
		[{ HTTPS_PROXY: 'http://corp:3128' }, STREAM, 'http://corp:3128'],
		[{ https_proxy: 'http://corp:3128' }, STREAM, 'http://corp:3128'],
		[{ https_proxy: 'http://lower:1', HTTPS_PROXY: 'http://upper:2' }, STREAM, 'http://lower:1'],
		[{ HTTP_PROXY: 'http://corp:3128' }, STREAM, null],
		[{ ALL_PROXY: 'http://corp:3128' }, STREAM, 'http://corp:3128'],
		[{ HTTP_PROXY: 'http://corp:3128' }, 'ws://sandbox:4010/v1/sessions/s/connect', 'http://corp:3128'],
		[{ http_proxy: 'http://corp:3128' }, 'ws://sandbox:4010/v1/sessions/s/connect', 'http://corp:3128'],
		[{ HTTPS_PROXY: 'http://corp:3128', NO_PROXY: 'api.kallglot.com' }, STREAM, null],
		[{ HTTPS_PROXY: 'http://corp:3128', no_proxy: '.kallglot.com' }, STREAM, null],
		[{ HTTPS_PROXY: 'http://corp:3128', NO_PROXY: '*' }, STREAM, null],
		[{ HTTPS_PROXY: 'http://corp:3128', NO_PROXY: 'api.kallglot.com:8443' }, STREAM, 'http://corp:3128'],
		[{ HTTPS_PROXY: 'http://corp:3128', NO_PROXY: 'other.example' }, 'https://api.kallglot.com/v1/agents', 'http://corp:3128'],
		[{}, STREAM, null],
	])('%j, %s → %s', (variables, url, expected) => {
		setProxyEnv(variables);
		expect(proxyFor(url)).toBe(expected);
		expect(streamAgent(url) === undefined).toBe(expected === null);
	});
});

/**
 * A sandbox whose stream URLs name `streamHost` (its publicUrl) while the REST calls use
 * 127.0.0.1: the two can then be routed apart (NO_PROXY=127.0.0.1 keeps REST direct).
 */
async function sandboxStreamingAs(streamHost: string): Promise<KallglotSandbox> {
	for (let attempt = 0; ; attempt++) {
		const probe = createServer();
		await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
		const port = (probe.address() as AddressInfo).port;
		await new Promise<void>((resolve) => probe.close(() => resolve()));
		try {
			return await KallglotSandbox.start({ port, publicUrl: `http://${streamHost}:${port}` });
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw error;
		}
	}
}

describe('the stream through a real forward proxy', () => {
	let proxy: ForwardProxy;
	const ONLY_VIA_PROXY = 'kallglot.invalid'; // RFC 2606: never resolves, except inside the proxy
	const sandboxes: KallglotSandbox[] = [];

	beforeAll(async () => {
		proxy = await startForwardProxy({ [ONLY_VIA_PROXY]: '127.0.0.1' });
	});
	afterAll(async () => {
		setProxyEnv({});
		await proxy.stop();
		for (const sandbox of sandboxes) await sandbox.close();
	});
	beforeEach(() => {
		proxy.seen.length = 0;
	});

	async function sandboxAs(streamHost: string): Promise<KallglotSandbox> {
		const sandbox = await sandboxStreamingAs(streamHost);
		sandboxes.push(sandbox);
		return sandbox;
	}

	test.each(['HTTP_PROXY', 'http_proxy'])('%s: the stream connects through the proxy (CONNECT)', async (variable) => {
		const sandbox = await sandboxAs('localhost');
		setProxyEnv({ [variable]: proxy.url, NO_PROXY: '127.0.0.1' });
		await streamOneCall(sandbox);
		expect(proxy.seen).toEqual([`CONNECT localhost:${sandbox.port}`]);
	});

	test.each([['NO_PROXY', '127.0.0.1,localhost'], ['no_proxy', '127.0.0.1,localhost'], ['NO_PROXY', '*']])('%s=%s: the stream bypasses the proxy', async (variable, value) => {
		const sandbox = await sandboxAs('localhost');
		setProxyEnv({ HTTP_PROXY: proxy.url, [variable]: value });
		await streamOneCall(sandbox);
		expect(proxy.seen).toEqual([]);
	});

	test('a stream host only the proxy can reach: the stream works through it', async () => {
		const sandbox = await sandboxAs(ONLY_VIA_PROXY);
		setProxyEnv({ HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' });
		await streamOneCall(sandbox);
		expect(proxy.seen).toEqual([`CONNECT ${ONLY_VIA_PROXY}:${sandbox.port}`]);
	});

	test('the same without the proxy variables: activation fails and says which host could not be resolved', async () => {
		const sandbox = await sandboxAs(ONLY_VIA_PROXY);
		setProxyEnv({});
		const activation = activateTrigger({
			parameters: { sessionSource: 'create', mode: 'bidirectional_translation' } as never,
			credentials: { apiKey: sandbox.apiKey, baseUrl: `http://127.0.0.1:${sandbox.port}/v1` },
		});
		await expect(activation).rejects.toThrow(new RegExp(`stream.*${ONLY_VIA_PROXY.replace('.', '\\.')}`));
		await expect(activation).rejects.toMatchObject({ description: expect.stringMatching(/HTTPS_PROXY/) });
		expect(proxy.seen).toEqual([]);
	});
});

describe('a proxy that asks for credentials (407 Proxy Authentication Required)', () => {
	let proxy: ForwardProxy;
	const PASSWORD = 'proxy-pass-7f3kq9';
	const sandboxes: KallglotSandbox[] = [];

	beforeAll(async () => {
		proxy = await startForwardProxy({}, `kallglot:${PASSWORD}`);
	});
	afterAll(async () => {
		setProxyEnv({});
		await proxy.stop();
		for (const sandbox of sandboxes) await sandbox.close();
	});
	beforeEach(() => {
		proxy.seen.length = 0;
		logLines.length = 0;
	});

	/** Activation with the REST calls direct (127.0.0.1) and the stream through the proxy (localhost). */
	async function activationError(proxyUrl: string): Promise<Error & { description?: string }> {
		const sandbox = await sandboxStreamingAs('localhost');
		sandboxes.push(sandbox);
		setProxyEnv({ HTTP_PROXY: proxyUrl, NO_PROXY: '127.0.0.1' });
		const error = await activateTrigger({
			parameters: { sessionSource: 'create', mode: 'bidirectional_translation' } as never,
			credentials: { apiKey: sandbox.apiKey, baseUrl: `http://127.0.0.1:${sandbox.port}/v1` },
		}).then(
			async (trigger) => {
				await trigger.close();
				throw new Error('activation succeeded');
			},
			(e: unknown) => e as Error & { description?: string },
		);
		expect(proxy.seen).toEqual([`CONNECT localhost:${sandbox.port}`]);
		return error;
	}

	test('no credentials in HTTP_PROXY: the message names the proxy, the fix is the user and password in its URL', async () => {
		const error = await activationError(proxy.url);
		expect(error.message).toMatch(/^Could not open the stream of session sess_\w+: /);
		expect(error.message).toContain(`the proxy ${proxy.url} asks for a user name and password (HTTP 407 Proxy Authentication Required)`);
		expect(error.description).toContain('HTTPS_PROXY=http://user:password@host:port');
		expect(error.description).toContain('restart n8n');
	});

	test('a wrong password: named as refused, and the password is in no message, description or log line', async () => {
		const url = new URL(proxy.url);
		const error = await activationError(`http://kallglot:wrong-${PASSWORD}@${url.host}`);
		expect(error.message).toContain(`the proxy http://kallglot:***@${url.host} did not accept the user name and password in its URL (HTTP 407`);
		expect(error.description).toMatch(/Check the user name and password/);
		expect(error.description).toContain('HTTPS_PROXY=http://user:password@host:port');
		for (const text of [error.message, error.description ?? '', error.stack ?? '', ...logLines]) expect(text).not.toContain(PASSWORD);
	});

	test('Session → Translate Audio: its stream goes through the proxy too, and a 407 is explained the same way', async () => {
		const sandbox = await sandboxStreamingAs('localhost');
		sandboxes.push(sandbox);
		// REST direct on 127.0.0.1 (NO_PROXY), the stream through the proxy to localhost.
		const direct = { apiKey: sandbox.apiKey, baseUrl: `http://127.0.0.1:${sandbox.port}/v1` } as KallglotSandbox;
		const file = wav([synthesize(bursts(1, 0.4, 0.3, 440), 8000)], 8000);
		const url = new URL(proxy.url);

		setProxyEnv({ HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' });
		const refused = await translateAudio(direct, { files: [file] });
		expect(refused.error?.message).toBe(`Could not open the session's stream: the proxy ${proxy.url} asks for a user name and password (HTTP 407 Proxy Authentication Required)`);
		expect(refused.error?.description).toContain('HTTPS_PROXY=http://user:password@host:port');
		const [first] = [...sandbox.sessions.values()];
		expect(refused.error?.description).toContain(`Session ${first.id} was ended`);
		expect(first.status).toBe('ended');

		setProxyEnv({ HTTP_PROXY: `http://kallglot:${PASSWORD}@${url.host}`, NO_PROXY: '127.0.0.1' });
		const { items, error } = await translateAudio(direct, { files: [file] });
		expect(error).toBeUndefined();
		expect(items![0].json).toMatchObject({ turns: [expect.objectContaining({ speaker: 'customer' })] });
		expect(proxy.seen).toEqual([`CONNECT localhost:${sandbox.port}`, `CONNECT localhost:${sandbox.port}`]);
	});

	test('the right credentials in HTTP_PROXY: the stream works through the proxy', async () => {
		const sandbox = await sandboxStreamingAs('localhost');
		sandboxes.push(sandbox);
		const url = new URL(proxy.url);
		setProxyEnv({ HTTP_PROXY: `http://kallglot:${PASSWORD}@${url.host}`, NO_PROXY: '127.0.0.1' });
		await streamOneCall(sandbox);
		expect(proxy.seen).toEqual([`CONNECT localhost:${sandbox.port}`]);
	});
});
