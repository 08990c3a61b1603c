#!/usr/bin/env node
/**
 * `npm run demo`: installs and builds when needed, then runs scripts/demo/run.ts (sandbox + real
 * n8n + the package: a scripted bilingual call, then the campaign loop closed by signed webhooks).
 * `--keep` keeps everything running until Ctrl-C.
 * Each preparation step is one line; its output is shown only when it fails.
 */
const { spawn, spawnSync } = require('child_process');
const path = require('path');

const { root, env, needsInstall } = require('./prepare');

/** Runs a preparation step quietly: one line saying what, its output only on failure. */
function step(what, command, args) {
	const started = Date.now();
	process.stdout.write(`${what}…`);
	const result = spawnSync(command, args, { cwd: root, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
	if (result.status === 0) {
		process.stdout.write(` done in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
		return true;
	}
	process.stdout.write(` failed (${[command, ...args].join(' ')}):\n`);
	process.stdout.write(`${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? `${result.error.message}\n` : ''}`);
	return false;
}

if (needsInstall() && !step('Installing the dependencies (npm ci, about a minute)', 'npm', ['ci', '--no-audit', '--no-fund'])) process.exit(1);
if (!step('Building the package', 'npm', ['run', 'build', '--silent'])) process.exit(1);

const child = spawn(process.execPath, [require.resolve('tsx/cli', { paths: [root] }), path.join(__dirname, 'demo', 'run.ts'), ...process.argv.slice(2)], {
	cwd: root,
	stdio: 'inherit',
});
// Ctrl-C reaches the child too (same process group); it stops what it started, then exits.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
