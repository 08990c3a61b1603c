#!/usr/bin/env node
/**
 * n8n's community package scan on the LOCAL tarball: `node test/package/scan.mjs [--list]`
 * after `npm run build`. Not part of npm test (it needs the npm registry once).
 *
 * `npx @n8n/scan-community-package <name>` only takes a published name: it downloads the tarball,
 * requires npm provenance, and lints the attested GitHub source. This script runs the same
 * analysis on what `npm pack` makes here instead: it installs the scanner (pinned) into a cache
 * folder and lints with the scanner's own exported ESLint config (buildScanConfig), on the same
 * two legs analyzePackageByName runs — the unpacked tarball (`**\/*.js`, `package.json`) and the
 * source (SOURCE_FILE_PATTERNS). Prints the counts per folder and per rule.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SCANNER_VERSION = '0.32.0';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cache = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'n8n-nodes-kallglot', `scan-community-package-${SCANNER_VERSION}`);
const scannerDir = join(cache, 'node_modules', '@n8n', 'scan-community-package');
const npmEnv = { ...process.env, npm_config_yes: 'true', npm_config_audit: 'false', npm_config_fund: 'false' };

if (!existsSync(join(scannerDir, 'package.json'))) {
	mkdirSync(cache, { recursive: true });
	writeFileSync(join(cache, 'package.json'), JSON.stringify({ name: 'scan-cache', private: true }));
	execFileSync('npm', ['install', '--ignore-scripts', '--no-package-lock', `@n8n/scan-community-package@${SCANNER_VERSION}`], { cwd: cache, env: npmEnv, stdio: 'inherit' });
}
const fromScanner = (specifier) => import(pathToFileURL(join(cache, 'node_modules', specifier)).href);
const { buildScanConfig, SOURCE_FILE_PATTERNS } = await fromScanner('@n8n/scan-community-package/scanner/scanner.mjs');
const { ESLint } = await fromScanner('eslint/lib/api.js');
const glob = (await fromScanner('fast-glob/out/index.js')).default;

async function lint(dir, patterns) {
	const eslint = new ESLint({ cwd: dir, allowInlineConfig: false, overrideConfigFile: true, overrideConfig: await buildScanConfig() });
	const files = glob.sync(patterns, { cwd: dir, absolute: true, ignore: ['node_modules/**', '**/package-lock.json'] });
	const results = await eslint.lintFiles(files);
	return results.flatMap((r) =>
		r.messages.filter((m) => m.severity === 2).map((m) => ({ file: relative(dir, r.filePath), line: m.line, rule: m.ruleId, message: m.message })),
	);
}

function report(leg, findings) {
	const count = (key) => findings.reduce((acc, f) => ({ ...acc, [key(f)]: (acc[key(f)] ?? 0) + 1 }), {});
	console.log(`\n${leg}: ${findings.length} findings`);
	console.log('  by folder:', count((f) => f.file.split('/').slice(0, 2).join('/')));
	console.log('  by rule:  ', count((f) => f.rule));
	if (process.argv.includes('--list')) for (const f of findings) console.log(`  ${f.file}:${f.line}  ${f.rule}  ${f.message}`);
}

const work = mkdtempSync(join(tmpdir(), 'kallglot-scan-'));
try {
	const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT, env: npmEnv, encoding: 'utf8' }));
	const unpacked = join(work, 'package');
	execFileSync('tar', ['-xzf', join(work, packed.filename), '-C', work]);
	console.log(`@n8n/scan-community-package@${SCANNER_VERSION} on ${packed.filename} (${packed.entryCount} files, ${packed.size} bytes packed, ${packed.unpackedSize} unpacked)`);
	report('tarball (**/*.js, package.json)', await lint(unpacked, ['**/*.js', 'package.json']));
	report(`source (${SOURCE_FILE_PATTERNS.join(', ')})`, await lint(ROOT, SOURCE_FILE_PATTERNS));
} finally {
	rmSync(work, { recursive: true, force: true });
}
