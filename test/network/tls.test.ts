/**
 * TLS and connection failures as n8n users meet them, on n8n-core's real WorkflowExecute and
 * TriggerContext: a Kallglot stand-in behind a TLS server on loopback whose certificate is signed
 * by a company CA n8n does not know (generated here with openssl). The message in n8n's error
 * panel is the package's own, names the certificate problem, and the fix (NODE_EXTRA_CA_CERTS)
 * works: a separate Node process started with it creates a session and opens the stream.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer as createTcpServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';

import { KallglotSandbox } from '../../sandbox';
import { runKallglotNode } from '../helpers/engine';
import { activateTrigger } from '../helpers/trigger';

let dir: string;
let sandbox: KallglotSandbox;
let tls: TlsServer;
let tlsPort: number;
let tlsConnections = 0;

/** A company CA (self-signed) and a server certificate for 127.0.0.1 it signed. */
function makeCertificates(): { caFile: string; key: Buffer; chain: Buffer } {
	const file = (name: string) => join(dir, name);
	const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
	const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
	openssl('req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '2', '-subj', '/CN=Example Corp TLS Inspection CA',
		'-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
	openssl('req', ...ec, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=127.0.0.1');
	writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n');
	openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial',
		'-out', file('server.pem'), '-days', '2', '-extfile', file('server.ext'));
	return {
		caFile: file('ca.pem'),
		key: readFileSync(file('server.key')),
		chain: Buffer.concat([readFileSync(file('server.pem')), readFileSync(file('ca.pem'))]),
	};
}

let caFile: string;

beforeAll(async () => {
	dir = mkdtempSync(join(tmpdir(), 'kallglot-tls-'));
	const certificates = makeCertificates();
	caFile = certificates.caFile;
	// TLS in front of the sandbox; the sandbox port is known only once it runs (after this).
	let sandboxPort = 0;
	tls = createTlsServer({ key: certificates.key, cert: certificates.chain }, (socket) => {
		const upstream = connect(sandboxPort, '127.0.0.1');
		socket.pipe(upstream).pipe(socket);
		socket.on('error', () => upstream.destroy());
		upstream.on('error', () => socket.destroy());
	});
	tls.on('connection', () => tlsConnections++);
	tls.on('tlsClientError', () => undefined);
	await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
	tlsPort = (tls.address() as AddressInfo).port;
	sandbox = await KallglotSandbox.start({ publicUrl: `https://127.0.0.1:${tlsPort}` });
	sandboxPort = sandbox.port;
});
afterAll(async () => {
	await sandbox.close();
	await new Promise<void>((resolve) => tls.close(() => resolve()));
	rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
	tlsConnections = 0;
	sandbox.clearFaults();
});

const direct = () => `http://127.0.0.1:${sandbox.port}/v1`;
const viaTls = () => `https://127.0.0.1:${tlsPort}/v1`;

describe('an untrusted certificate', () => {
	test('REST: the error panel names the certificate problem and NODE_EXTRA_CA_CERTS; tried once, no idempotency wording on a GET', async () => {
		const { error } = await runKallglotNode({
			parameters: { resource: 'agent', operation: 'getMany', returnAll: false, limit: 1 },
			credentials: { apiKey: sandbox.apiKey, baseUrl: viaTls() },
		});
		expect(error?.message).toBe(`Could not reach Kallglot: the TLS certificate presented for 127.0.0.1:${tlsPort} is not trusted (SELF_SIGNED_CERT_IN_CHAIN)`);
		expect(error?.description).toMatch(/NODE_EXTRA_CA_CERTS=\/path\/to\/company-ca\.pem/);
		expect(`${error?.message} ${error?.description}`).not.toMatch(/Idempotency|tried \d+ times|Base URL and the network/);
		expect(tlsConnections).toBe(1);
	});

	test('the stream: activation fails with the certificate problem and NODE_EXTRA_CA_CERTS', async () => {
		// REST reaches the sandbox directly; its stream URLs are the wss:// ones behind the TLS server.
		const activation = activateTrigger({
			parameters: { sessionSource: 'create', mode: 'bidirectional_translation' } as never,
			credentials: { apiKey: sandbox.apiKey, baseUrl: direct() },
		});
		await expect(activation).rejects.toMatchObject({
			message: expect.stringMatching(
				new RegExp(`^Could not open the stream of session sess_\\w+: the TLS certificate presented for 127\\.0\\.0\\.1:${tlsPort} is not trusted \\(SELF_SIGNED_CERT_IN_CHAIN\\)$`),
			),
			description: expect.stringMatching(/NODE_EXTRA_CA_CERTS/),
		});
	});

	test('the fix: a Node process started with NODE_EXTRA_CA_CERTS creates a session over https and opens its wss stream', async () => {
		const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures/stream-with-ca.ts'), viaTls(), sandbox.apiKey], {
			env: { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: caFile },
			stdio: ['ignore', 'pipe', 'inherit'],
		});
		let out = '';
		child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
		const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
		expect(out.trim().split('\n')).toEqual(['rest 201', 'open']);
		expect(code).toBe(0);
	});
});

describe('messages that fit the request, shown as ours in the error panel', () => {
	let closedPort: number;

	beforeAll(async () => {
		const probe: Server = createTcpServer();
		await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
		closedPort = (probe.address() as AddressInfo).port;
		await new Promise<void>((resolve) => probe.close(() => resolve()));
	});

	test('a refused connection: our message (not n8n’s "The service refused the connection"), the Docker hint, no idempotency on a GET', async () => {
		const { error } = await runKallglotNode({
			parameters: { resource: 'session', operation: 'get', sessionId: 'sess_ABC' },
			credentials: { apiKey: sandbox.apiKey, baseUrl: `http://127.0.0.1:${closedPort}/v1` },
		});
		expect(error?.message).toBe(`Could not reach Kallglot: 127.0.0.1:${closedPort} refused the connection (ECONNREFUSED)`);
		expect(error?.description).toMatch(/host\.docker\.internal/);
		expect(error?.description).toMatch(/tried 4 times\.$/);
		expect(error?.description).not.toMatch(/Idempotency/);
	});

	test('a refused create says its retries kept the same Idempotency-Key', async () => {
		const { error } = await runKallglotNode({
			parameters: { resource: 'session', operation: 'create', mode: 'bidirectional_translation' },
			credentials: { apiKey: sandbox.apiKey, baseUrl: `http://127.0.0.1:${closedPort}/v1` },
		});
		expect(error?.message).toMatch(/refused the connection \(ECONNREFUSED\)$/);
		expect(error?.description).toMatch(/tried 4 times with the same Idempotency-Key/);
	});

	test('an unresolvable host: our message names it', async () => {
		const { error } = await runKallglotNode({
			parameters: { resource: 'session', operation: 'get', sessionId: 'sess_ABC' },
			credentials: { apiKey: sandbox.apiKey, baseUrl: 'https://kallglot.invalid/v1' },
		});
		expect(error?.message).toMatch(/^Could not reach Kallglot: the host name kallglot\.invalid could not be resolved \((ENOTFOUND|EAI_AGAIN)\)$/);
		expect(error?.description).toMatch(/HTTPS_PROXY/);
	});

	test.each([
		['GET', { resource: 'session', operation: 'get', sessionId: 'sess_ABC' }, false],
		['POST', { resource: 'session', operation: 'create', mode: 'bidirectional_translation' }, true],
	])('a 500 on a %s: Idempotency-Key guidance only where one was sent', async (method, parameters, idempotent) => {
		sandbox.injectFault({ method, status: 500, times: 4 });
		const { error } = await runKallglotNode({ parameters, credentials: { apiKey: sandbox.apiKey, baseUrl: direct() } });
		expect(error?.message).toMatch(/^Kallglot 500 /);
		expect(/Idempotency-Key/.test(error?.description ?? '')).toBe(idempotent);
	});
});
