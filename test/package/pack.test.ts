/**
 * The published tarball holds what n8n loads (compiled nodes and credentials, icons, codex
 * files), the sandbox bin on purpose, and the package's own files: nothing else. Run after
 * `npm run build` (npm test does): the list is what `npm pack` would ship from dist/ now.
 */
import { execFileSync } from 'child_process';
import { existsSync, readFileSync } from 'fs';
import { join } from 'path';

const ROOT = join(__dirname, '..', '..');
const PACKAGE_JSON = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
	n8n: { nodes: string[]; credentials: string[] };
	bin?: Record<string, string>;
};

const ALLOWED: RegExp[] = [
	/^package\.json$/,
	/^README\.md$/,
	/^LICENSE$/,
	/^index\.js$/,
	/^dist\/(nodes|credentials)\/.+\.js$/,
	/^dist\/nodes\/.+\.node\.json$/, // codex files
	/^dist\/(nodes|credentials)\/.+\.svg$/,
	/^dist\/sandbox\/.+$/, // the kallglot-sandbox bin, shipped on purpose
];

let files: string[];
beforeAll(() => {
	if (!existsSync(join(ROOT, PACKAGE_JSON.n8n.nodes[0]))) throw new Error('dist/ is missing: run `npm run build` first');
	const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
		cwd: ROOT,
		encoding: 'utf8',
		env: { ...process.env, npm_config_yes: 'true', npm_config_loglevel: 'silent' },
	});
	files = (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0].files.map((f) => f.path);
}, 120_000);

describe('npm pack', () => {
	test('ships nothing outside the allowlist (no tsbuildinfo, dist/package.json, maps, typings, screenshots)', () => {
		expect(files.filter((path) => !ALLOWED.some((re) => re.test(path)))).toEqual([]);
	});

	test('ships every node and credential package.json declares, with their icons and codex files', () => {
		for (const path of [...PACKAGE_JSON.n8n.nodes, ...PACKAGE_JSON.n8n.credentials]) expect(files).toContain(path);
		for (const node of PACKAGE_JSON.n8n.nodes) expect(files).toContain(node.replace(/\.js$/, '.json'));
		expect(files.filter((f) => f.endsWith('.svg')).length).toBeGreaterThanOrEqual(2 * (PACKAGE_JSON.n8n.nodes.length + 1));
		for (const bin of Object.values(PACKAGE_JSON.bin ?? {})) expect(files).toContain(bin.replace(/^\.\//, ''));
		expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'index.js']));
	});
});
