#!/usr/bin/env node
/**
 * `npm test`: everything a fresh clone needs, in order, with a wall time per part.
 *   1. install dependencies when node_modules is missing or older than package-lock.json
 *   2. build (the n8n package, then the sandbox package in sandbox/), 3. lint,
 *   4. unit + engine tests (jest, against the sandbox over loopback; both packages packed and installed)
 *   5. end-to-end in real n8n (2.8.4 on Node 20, 2.41.x on Node 24, the editor in Chromium,
 *      queue mode), see test/e2e.
 * `npm test -- --unit` stops after step 4.
 * Ends with one "N passed, N failed" line over all jest parts.
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const { root, env, needsInstall } = require('./prepare');

const unitOnly = process.argv.includes('--unit');
const timings = [];
const totals = { passed: 0, failed: 0 };

function run(label, command, args, options = {}) {
	const started = Date.now();
	console.log(`\n=== ${label}: ${[command, ...args].join(' ')}`);
	const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...env, ...options.env } });
	const seconds = ((Date.now() - started) / 1000).toFixed(1);
	timings.push(`${label.padEnd(34)} ${seconds.padStart(7)} s  ${result.status === 0 ? 'ok' : 'FAILED'}`);
	return result.status === 0;
}

/** Runs jest with a JSON report, so the counts of every part add up to one closing line. */
function jest(label, args, options = {}) {
	const report = path.join(os.tmpdir(), `kallglot-jest-${process.pid}-${timings.length}.json`);
	const ok = run(label, 'npx', ['jest', ...args, '--json', `--outputFile=${report}`], options);
	try {
		const summary = JSON.parse(fs.readFileSync(report, 'utf8'));
		totals.passed += summary.numPassedTests;
		totals.failed += summary.numFailedTests + (summary.numRuntimeErrorTestSuites ?? 0);
		fs.rmSync(report, { force: true });
	} catch {
		totals.failed += 1; // jest did not even report: count the part as failed
	}
	return ok;
}

function finish(ok) {
	console.log('\n=== Wall time per part');
	for (const line of timings) console.log(line);
	console.log(`\n${totals.passed} passed, ${totals.failed} failed`);
	process.exit(ok && totals.failed === 0 ? 0 : 1);
}

let ok = true;
if (needsInstall()) ok = run('install (npm ci)', 'npm', ['ci']);
ok = ok && run('build', 'npm', ['run', 'build']);
ok = ok && run('build sandbox (kallglot-sandbox)', 'npm', ['run', 'build:sandbox']);
ok = ok && run('lint', 'npm', ['run', 'lint']);
if (!ok) finish(false);

ok = jest('unit + engine tests', ['--silent']) && ok;
if (unitOnly) finish(ok);

const e2e = ['-c', 'test/e2e/jest.config.js', '--runInBand'];
ok = run('install n8n 2.8.4 and 2.41.1 (cached)', 'node', ['scripts/n8n/install.js', 'all']) && ok;
// The editor check drives Debian's Chromium (a browser download is not possible here).
const chromium = process.env.E2E_CHROMIUM || '/usr/bin/chromium';
if (!fs.existsSync(chromium) && process.getuid?.() === 0) {
	ok = run('install Debian chromium (apt)', 'bash', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium']) && ok;
}
ok = jest('e2e: n8n 2.8.4 on Node 20', e2e, { env: { E2E_N8N_VERSION: '2.8.4' } }) && ok;
ok = jest('e2e: n8n 2.41.1 on Node 24', e2e, { env: { E2E_N8N_VERSION: '2.41.1' } }) && ok;
finish(ok);
