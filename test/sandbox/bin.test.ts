/**
 * The sandbox is its own package (sandbox/package.json, `kallglot-sandbox`): `npm pack` it, install
 * the tarball into an empty folder (as a user who got it from npm), start its `kallglot-sandbox`
 * bin on a free port, call it, stop it; its main entry exports the server for programmatic use.
 * Needs `npm run build:sandbox` first (npm test builds before it runs jest).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SANDBOX = resolve(__dirname, '../../sandbox');
const NPM_ENV = { ...process.env, npm_config_yes: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_loglevel: 'silent' };

let work: string;
let child: ChildProcess | undefined;

beforeAll(() => {
	if (!existsSync(join(SANDBOX, 'dist/cli.js'))) throw new Error('sandbox/dist/cli.js is missing: run `npm run build:sandbox` first');
	work = mkdtempSync(join(tmpdir(), 'kallglot-bin-'));
});

afterAll(() => {
	if (child?.exitCode === null) child.kill('SIGKILL');
	rmSync(work, { recursive: true, force: true });
});

/** Resolves with the first stdout text matching `pattern` (the banner), rejects if the process exits first. */
function waitForOutput(proc: ChildProcess, pattern: RegExp): Promise<RegExpMatchArray> {
	return new Promise((resolvePromise, reject) => {
		let out = '';
		let err = '';
		proc.stdout?.on('data', (chunk: Buffer) => {
			out += chunk.toString();
			const match = pattern.exec(out);
			if (match !== null) resolvePromise(match);
		});
		proc.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
		proc.once('exit', (code) => reject(new Error(`kallglot-sandbox exited with ${code} before its banner:\n${out}\n${err}`)));
	});
}

it('packs as kallglot-sandbox, installs from its tarball and runs as `kallglot-sandbox`', async () => {
	const packDir = join(work, 'pack');
	const appDir = join(work, 'app');
	await run('mkdir', ['-p', packDir, appDir]);
	const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', packDir], { cwd: SANDBOX, env: NPM_ENV });
	const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
	expect(packed.filename).toMatch(/^kallglot-sandbox-.*\.tgz$/);
	// Compiled JavaScript and typings only: no TypeScript sources, tsconfig or build info.
	expect(packed.files.map((f) => f.path).filter((path) => !/^(package\.json|README\.md|dist\/[\w-]+\.(js|d\.ts))$/.test(path))).toEqual([]);
	expect(packed.files.map((f) => f.path)).toEqual(expect.arrayContaining(['package.json', 'dist/cli.js', 'dist/index.js']));
	const tarball = join(packDir, packed.filename);

	writeFileSync(join(appDir, 'package.json'), JSON.stringify({ name: 'sandbox-user', private: true }));
	// Its dependencies (ws, and alawmulaw for the audio it listens to) come from the npm cache when
	// present; no n8n is needed.
	await run('npm', ['install', '--prefer-offline', '--no-package-lock', tarball], { cwd: appDir, env: NPM_ENV });
	expect(readdirSync(join(appDir, 'node_modules')).sort()).toEqual(['.bin', '.package-lock.json', 'alawmulaw', 'kallglot-sandbox', 'ws'].sort());

	// The main entry, as a program that starts the sandbox itself would use it.
	const { stdout: exported } = await run(process.execPath, ['-e', "const s = require('kallglot-sandbox'); process.stdout.write(typeof s.KallglotSandbox.start + ' ' + s.SANDBOX_API_KEY.slice(0, 8))"], { cwd: appDir });
	expect(exported).toBe('function sk_sandb');

	const bin = join(appDir, 'node_modules/.bin/kallglot-sandbox');
	expect(existsSync(bin)).toBe(true);

	// The bin itself (shebang + executable bit), as `npx kallglot-sandbox` runs it.
	child = spawn(bin, ['--port', '0', '--quiet'], { cwd: appDir, stdio: 'pipe' });
	const [, baseUrl, apiKey] = await waitForOutput(child, /base URL\s+(http:\/\/127\.0\.0\.1:\d+\/v1)\s+API key\s+(\S+)/);

	const res = await fetch(`${baseUrl}/agents?limit=1`, { headers: { authorization: `Bearer ${apiKey}` } });
	expect(res.status).toBe(200);
	expect(await res.json()).toMatchObject({ object: 'list', data: [{ object: 'agent' }], has_more: true });
	expect((await fetch(`${baseUrl}/agents`)).status).toBe(401);

	const exited = new Promise<number | null>((resolveExit) => child?.once('exit', (code) => resolveExit(code)));
	child.kill('SIGTERM');
	expect(await exited).toBe(0);
}, 180_000);
