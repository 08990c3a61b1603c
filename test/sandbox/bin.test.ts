/**
 * The sandbox ships: `npm pack` this package, install the tarball into an empty folder (as a user
 * who got it from npm), start its `kallglot-sandbox` bin on a free port, call it, stop it.
 * Needs `npm run build` first (npm test builds before it runs jest).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../..');
const NPM_ENV = { ...process.env, npm_config_yes: 'true', npm_config_audit: 'false', npm_config_fund: 'false' };

let work: string;
let child: ChildProcess | undefined;

beforeAll(() => {
	if (!existsSync(join(ROOT, 'dist/sandbox/cli.js'))) throw new Error('dist/sandbox/cli.js is missing: run `npm run build` first');
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

it('installs from the packed tarball and runs as `kallglot-sandbox`', async () => {
	const packDir = join(work, 'pack');
	const appDir = join(work, 'app');
	await run('mkdir', ['-p', packDir, appDir]);
	await run('npm', ['pack', '--silent', '--pack-destination', packDir], { cwd: ROOT, env: NPM_ENV });
	const [tarball] = readdirSync(packDir).filter((f) => f.endsWith('.tgz'));
	expect(tarball).toMatch(/^n8n-nodes-kallglot-.*\.tgz$/);

	writeFileSync(join(appDir, 'package.json'), JSON.stringify({ name: 'sandbox-user', private: true }));
	// --legacy-peer-deps: a sandbox user needs no n8n; ws and zod come from the npm cache when present.
	await run(
		'npm',
		['install', '--prefer-offline', '--legacy-peer-deps', '--no-package-lock', join(packDir, tarball)],
		{ cwd: appDir, env: NPM_ENV },
	);
	const bin = join(appDir, 'node_modules/.bin/kallglot-sandbox');
	expect(existsSync(bin)).toBe(true);

	// The bin itself (shebang + executable bit), as `npx --package n8n-nodes-kallglot kallglot-sandbox` runs it.
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
