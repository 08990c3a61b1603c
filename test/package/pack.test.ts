/**
 * The n8n package's tarball holds what n8n loads — compiled nodes and credentials, their icons and
 * codex files, index.js — and the package's own files: nothing else (the sandbox is its own
 * package, see test/sandbox/bin.test.ts). Packed for real, then installed from the tarball into an
 * empty folder, where every node and credential n8n's block lists loads beside the n8n-workflow
 * the host n8n provides. Run after `npm run build` (npm test does).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../..');
const NPM_ENV = { ...process.env, npm_config_yes: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_loglevel: 'silent' };

interface PackageJson {
	name: string;
	bin?: unknown;
	dependencies: Record<string, string>;
	n8n: { nodes: string[]; credentials: string[] };
}
const PACKAGE_JSON = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;

const ALLOWED: RegExp[] = [
	/^package\.json$/,
	/^README\.md$/,
	/^LICENSE$/,
	/^index\.js$/,
	/^dist\/(nodes|credentials)\/.+\.js$/,
	/^dist\/nodes\/.+\.node\.json$/, // codex files
	/^dist\/(nodes|credentials)\/.+\.svg$/,
];

let work: string;
let tarball: string;
let files: string[];

beforeAll(async () => {
	if (!existsSync(join(ROOT, PACKAGE_JSON.n8n.nodes[0]))) throw new Error('dist/ is missing: run `npm run build` first');
	work = mkdtempSync(join(tmpdir(), 'kallglot-pack-'));
	const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT, env: NPM_ENV });
	const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
	tarball = join(work, packed.filename);
	files = packed.files.map((f) => f.path);
}, 120_000);

afterAll(() => {
	if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('npm pack (n8n-nodes-kallglot)', () => {
	test('ships nothing outside the allowlist (no sandbox, tsbuildinfo, dist/package.json, maps, typings, screenshots)', () => {
		expect(files.filter((path) => !ALLOWED.some((re) => re.test(path)))).toEqual([]);
		expect(files.filter((path) => path.includes('sandbox'))).toEqual([]);
	});

	test('ships every node and credential package.json declares, with their icons and codex files', () => {
		for (const path of [...PACKAGE_JSON.n8n.nodes, ...PACKAGE_JSON.n8n.credentials]) expect(files).toContain(path);
		for (const node of PACKAGE_JSON.n8n.nodes) expect(files).toContain(node.replace(/\.js$/, '.json'));
		// Every icon a node or credential names (file: paths relative to its file, as n8n's loader
		// resolves them) is in the tarball: the nodes share the credentials' one pair.
		for (const path of [...PACKAGE_JSON.n8n.nodes, ...PACKAGE_JSON.n8n.credentials]) {
			const icons = [...readFileSync(join(ROOT, path), 'utf8').matchAll(/['"]file:([^'"]+\.svg)['"]/g)].map((m) => m[1]);
			expect(icons).toHaveLength(2);
			for (const icon of icons) expect(files).toContain(posix.join(posix.dirname(path), icon));
		}
		expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'index.js']));
	});

	test('declares no bin: the sandbox CLI comes with the kallglot-sandbox package', () => {
		expect(PACKAGE_JSON.bin).toBeUndefined();
	});
});

describe('installed from the tarball into an empty folder', () => {
	let app: string;

	beforeAll(async () => {
		app = join(work, 'app');
		mkdirSync(app);
		writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'n8n-nodes-folder', private: true }));
		await run('npm', ['install', '--prefer-offline', '--legacy-peer-deps', '--no-package-lock', tarball], { cwd: app, env: NPM_ENV });
		// n8n-workflow is a peer: the host n8n provides it. Here the repository's copy stands in for it.
		symlinkSync(join(ROOT, 'node_modules/n8n-workflow'), join(app, 'node_modules/n8n-workflow'), 'dir');
	}, 180_000);

	test('installs its runtime dependencies and no command', () => {
		for (const dependency of Object.keys(PACKAGE_JSON.dependencies)) expect(existsSync(join(app, 'node_modules', dependency, 'package.json'))).toBe(true);
		const binFolder = join(app, 'node_modules/.bin');
		expect(existsSync(binFolder) ? readdirSync(binFolder) : []).toEqual([]);
	});

	test('every node and credential n8n lists loads from the installed package', async () => {
		const installed = join(app, 'node_modules', PACKAGE_JSON.name);
		// A child process, as n8n's loader does: require each file, instantiate the class named after it.
		const script = `
			const path = require('path');
			const pkg = require(path.join(${JSON.stringify(installed)}, 'package.json'));
			const loaded = [...pkg.n8n.nodes, ...pkg.n8n.credentials].map((file) => {
				const className = path.basename(file).replace(/\\.(node|credentials)\\.js$/, '');
				const instance = new (require(path.join(${JSON.stringify(installed)}, file))[className])();
				return instance.description ? instance.description.name : instance.name;
			});
			process.stdout.write(JSON.stringify(loaded));`;
		const { stdout } = await run(process.execPath, ['-e', script], { cwd: app });
		expect(JSON.parse(stdout)).toEqual(['kallglot', 'kallglotTrigger', 'kallglotWebhookTrigger', 'kallglotApi', 'kallglotWebhookApi']);
	}, 60_000);
});
