#!/usr/bin/env node
/**
 * `npm run demo`: installs and builds when needed, then runs scripts/demo/run.ts (sandbox + real
 * n8n + the package: a scripted bilingual call, then the campaign loop closed by signed webhooks).
 * `--keep` keeps everything running until Ctrl-C.
 */
const { spawn } = require('child_process');
const path = require('path');

const { root, run, needsInstall } = require('./prepare');

if (needsInstall() && !run('npm', ['ci'])) process.exit(1);
if (!run('npm', ['run', 'build', '--silent'])) process.exit(1);

const child = spawn(process.execPath, [require.resolve('tsx/cli', { paths: [root] }), path.join(__dirname, 'demo', 'run.ts'), ...process.argv.slice(2)], {
	cwd: root,
	stdio: 'inherit',
});
// Ctrl-C reaches the child too (same process group); it stops what it started, then exits.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
