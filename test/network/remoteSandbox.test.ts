/**
 * A sandbox a Docker user can reach: the sandbox bound to a non-loopback address of this machine
 * (as n8n in a container sees a sandbox on the host), used over plain http:// with its own key by
 * the Kallglot node, the credential test and the trigger's stream — while a Kallglot key
 * (sk_live_…, sk_test_…) is refused before a single byte goes to that address.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { networkInterfaces } from 'node:os';

import { KallglotApi } from '../../credentials/KallglotApi.credentials';
import { isSandboxKey, parseBaseUrl, SANDBOX_KEY_PREFIX } from '../../nodes/shared/baseUrl';
import { KallglotSandbox, SANDBOX_API_KEY } from '../../sandbox';
import { runKallglotNode } from '../helpers/engine';
import { activateTrigger } from '../helpers/trigger';

/** This machine's first non-loopback IPv4 address (a container reaches the host by such an address). */
function lanAddress(): string | undefined {
	for (const addresses of Object.values(networkInterfaces())) {
		for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
	}
	return undefined;
}

const LAN = lanAddress();
const REAL_LOOKING_KEYS = ['sk_live_51HxAbCdEf0123456789', 'sk_test_51HxAbCdEf0123456789', 'sk_test_sandbox_4f7c2a9e1b8d6035'];

describe('which keys may use plain http:// to which host', () => {
	test('the sandbox key is a sandbox key, and no Kallglot key shape is', () => {
		expect(SANDBOX_API_KEY.startsWith(SANDBOX_KEY_PREFIX)).toBe(true);
		expect(isSandboxKey(SANDBOX_API_KEY)).toBe(true);
		for (const key of [...REAL_LOOKING_KEYS, SANDBOX_KEY_PREFIX, '', undefined, 42]) expect(isSandboxKey(key)).toBe(false);
	});

	test.each([
		['https://api.kallglot.com/v1', 'sk_live_x1', true],
		['https://10.0.0.5:8443/v1/', 'sk_test_x1', true],
		['http://127.0.0.1:4010/v1', 'sk_live_x1', true],
		['http://localhost:4010/v1', 'sk_test_x1', true],
		['http://[::1]:4010/v1', 'sk_live_x1', true],
		['http://host.docker.internal:4010/v1', SANDBOX_API_KEY, true],
		['http://sandbox:4010/v1', 'sk_sandbox_mine', true],
		['http://host.docker.internal:4010/v1', 'sk_live_x1', false],
		['http://sandbox:4010/v1', 'sk_test_x1', false],
		['http://192.168.1.20:4010/v1', 'sk_test_sandbox_4f7c2a9e1b8d6035', false],
		['http://192.168.1.20:4010/v1', 'sk_sandbox_', false],
		['http://192.168.1.20:4010/v1', '', false],
		['ftp://sandbox/v1', SANDBOX_API_KEY, false],
	])('%s with %s: allowed %s', (baseUrl, apiKey, allowed) => {
		const parsed = parseBaseUrl(baseUrl, apiKey);
		expect('url' in parsed).toBe(allowed);
		if ('problem' in parsed) {
			expect(parsed.problem).toMatch(/https:\/\//);
			if (apiKey.length > SANDBOX_KEY_PREFIX.length) expect(parsed.problem).not.toContain(apiKey);
		} else {
			expect(parsed.url).toBe(baseUrl.replace(/\/+$/, ''));
		}
	});
});

const describeLan = LAN ? describe : describe.skip;

describeLan(`a sandbox bound to ${LAN ?? 'a non-loopback address'}`, () => {
	let sandbox: KallglotSandbox;
	let baseUrl: string;

	beforeAll(async () => {
		sandbox = await KallglotSandbox.start({ host: LAN });
		baseUrl = `http://${LAN}:${sandbox.port}/v1`;
	});
	afterAll(async () => {
		await sandbox.close();
	});

	test('answers there, and its stream URLs name the host the client used', async () => {
		expect(sandbox.baseUrl).toBe(baseUrl);
		const res = await fetch(`${baseUrl}/sessions`, {
			method: 'POST',
			headers: { authorization: `Bearer ${sandbox.apiKey}`, 'content-type': 'application/json' },
			body: JSON.stringify({ mode: 'bidirectional_translation' }),
		});
		expect(res.status).toBe(201);
		expect(((await res.json()) as { stream: { url: string } }).stream.url).toMatch(new RegExp(`^ws://${LAN}:${sandbox.port}/v1/sessions/sess_\\w+/connect$`));
	});

	test('the Kallglot node creates a session over plain http:// with the sandbox key', async () => {
		const { items, error } = await runKallglotNode({
			parameters: { resource: 'session', operation: 'create', mode: 'bidirectional_translation' },
			credentials: { apiKey: sandbox.apiKey, baseUrl },
		});
		expect(error).toBeUndefined();
		expect(items?.[0].json).toMatchObject({ id: expect.stringMatching(/^sess_/), status: 'created' });
	});

	test('the trigger creates a session and streams its call from there', async () => {
		const trigger = await activateTrigger({
			parameters: { sessionSource: 'create', mode: 'bidirectional_translation' } as never,
			credentials: { apiKey: sandbox.apiKey, baseUrl },
		});
		try {
			const sessionId = [...sandbox.sessions.keys()].at(-1) as string;
			expect(sandbox.handshakes.at(-1)).toMatchObject({ sessionId, status: 101 });
			await sandbox.play(sessionId, { intervalMs: 5 });
			const items = await trigger.waitForItems(1);
			expect(items[0]).toMatchObject({ sessionId });
		} finally {
			await trigger.close();
		}
	});

	test('the credential test passes with the sandbox key', async () => {
		const credential = new KallglotApi();
		const options = await credential.authenticate({ apiKey: sandbox.apiKey, baseUrl }, { url: `${baseUrl}/agents` });
		const res = await fetch(options.url, { headers: options.headers as Record<string, string> });
		expect(res.status).toBe(200);
	});
});

describeLan('kallglot-sandbox --host', () => {
	test(`--host ${LAN} listens there and says how a container reaches it`, async () => {
		const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '../../sandbox/cli.ts'), '--host', LAN as string, '--port', '0', '--quiet'], {
			stdio: ['ignore', 'pipe', 'inherit'],
		});
		try {
			const lines: string[] = [];
			const baseUrl = await new Promise<string>((resolve, reject) => {
				child.once('exit', (code) => reject(new Error(`the sandbox exited (${code}): ${lines.join('\n')}`)));
				createInterface({ input: child.stdout }).on('line', (line) => {
					lines.push(line);
					const match = /^\s+base URL\s+(\S+)/.exec(line);
					if (match) resolve(match[1]);
				});
			});
			expect(baseUrl).toMatch(new RegExp(`^http://${LAN}:\\d+/v1$`));
			const res = await fetch(`${baseUrl}/agents?limit=1`, { headers: { authorization: `Bearer ${SANDBOX_API_KEY}` } });
			expect(res.status).toBe(200);
			await new Promise((resolve) => setImmediate(resolve));
			expect(lines.join('\n')).toMatch(/host\.docker\.internal/);
		} finally {
			child.kill('SIGTERM');
		}
	});
});

describeLan('a Kallglot key and a plain-http non-loopback address', () => {
	// A bare TCP listener on the same kind of address: it only counts who connects.
	let server: Server;
	let baseUrl: string;
	const connections: Socket[] = [];

	beforeAll(async () => {
		server = createServer((socket) => {
			connections.push(socket);
			socket.destroy();
		});
		await new Promise<void>((resolve) => server.listen(0, LAN, resolve));
		baseUrl = `http://${LAN}:${(server.address() as { port: number }).port}/v1`;
	});
	afterAll(async () => {
		await new Promise<void>((resolve) => server.close(() => resolve()));
	});

	test.each(REAL_LOOKING_KEYS)('%s: the node refuses before any connection', async (apiKey) => {
		const { error } = await runKallglotNode({
			parameters: { resource: 'session', operation: 'create', mode: 'bidirectional_translation' },
			credentials: { apiKey, baseUrl },
		});
		expect(error?.message).toMatch(/is not allowed with this API key: the key would travel unencrypted/);
		expect(error?.message).toMatch(/sk_sandbox_/);
		expect(JSON.stringify(error)).not.toContain(apiKey);
		expect(connections).toHaveLength(0);
	});

	test.each(REAL_LOOKING_KEYS)('%s: the trigger refuses at activation before any connection', async (apiKey) => {
		const activation = activateTrigger({ parameters: { sessionSource: 'create' } as never, credentials: { apiKey, baseUrl } });
		await expect(activation).rejects.toThrow(/is not allowed with this API key/);
		expect(connections).toHaveLength(0);
	});

	test.each(REAL_LOOKING_KEYS)('%s: the credential test refuses to authenticate the request', async (apiKey) => {
		const credential = new KallglotApi();
		await expect(credential.authenticate({ apiKey, baseUrl }, { url: `${baseUrl}/agents` })).rejects.toThrow(/is not allowed with this API key/);
		expect(connections).toHaveLength(0);
	});
});
