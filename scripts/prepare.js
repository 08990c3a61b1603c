/**
 * Set-up shared by `npm test` and `npm run demo`: install dependencies when needed, build.
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
// eslint-plugin-n8n-nodes-base runs `npx only-allow pnpm` on install: let npx run unattended.
const env = { ...process.env, npm_config_yes: 'true' };

function run(command, args, extraEnv = {}) {
	return spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...env, ...extraEnv } }).status === 0;
}

/** True when node_modules is missing or older than package-lock.json. */
function needsInstall() {
	const marker = path.join(root, 'node_modules', '.package-lock.json');
	if (!fs.existsSync(marker)) return true;
	return fs.statSync(path.join(root, 'package-lock.json')).mtimeMs > fs.statSync(marker).mtimeMs;
}

module.exports = { root, env, run, needsInstall };
