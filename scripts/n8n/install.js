#!/usr/bin/env node
'use strict';
/**
 * Installs a real n8n (and, when asked, the Node.js it needs) into a cache folder outside
 * the repository, for the end-to-end suite. Plain Node, no dependencies.
 *
 *   ensureN8n({ version: '2.8.4' })              -> n8n 2.8.4 on this Node (20)
 *   ensureN8n({ version: '2.41.1', node: '24' }) -> Node 24 from the `node` npm package + n8n 2.41.1
 *
 * Each resolves to { n8nBin, nodeBin, version, root, nodeMajor }; run n8n as `nodeBin n8nBin ...`
 * with `path.dirname(nodeBin)` first on PATH (see env()).
 *
 * Cache: $N8N_E2E_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/n8n-nodes-kallglot.
 * A folder counts as installed only when its `.complete` marker exists (written last);
 * a lock folder (`<dir>.lock`, holding the owner's pid) keeps two runs from installing at once;
 * a lock whose owner is dead is taken over.
 *
 * Output: one progress line per install (what, how far, how long; see progress.js); npm's own
 * output goes to `<cache>/<folder>.install.log`, whose path and last lines a failure prints.
 *
 * CLI: node scripts/n8n/install.js [all|2.8.4|2.41.1]
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const readline = require('readline');

const { NpmProgress, ProgressLine, formatDuration } = require('./progress');

const DEFAULT_VERSION = '2.8.4';
/** n8n versions the suite knows, with the Node major each needs (undefined = this Node). */
const KNOWN = { '2.8.4': undefined, '2.41.1': '24' };
/** Packages of a finished install (node_modules/.package-lock.json), for the progress percentage. */
const PACKAGE_COUNTS = { '2.8.4': 2082, '2.41.1': 2348 };
/** The default xlsx of n8n comes from a CDN that cannot be reached; the registry mirror can. */
const OVERRIDES = { xlsx: 'npm:@e965/xlsx@0.20.2' };

function cacheRoot() {
  if (process.env.N8N_E2E_CACHE) return path.resolve(process.env.N8N_E2E_CACHE);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'n8n-nodes-kallglot');
}

function log(msg) {
  process.stderr.write(`[n8n-install] ${msg}\n`);
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * mkdir-based lock with the owner's pid; waits (up to timeoutMs) for a live owner, calling
 * onWait(pid) every 2 s meanwhile.
 */
async function withLock(dir, fn, { onWait = () => undefined, timeoutMs = 30 * 60 * 1000 } = {}) {
  const lock = `${dir}.lock`;
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const start = Date.now();
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let pid = NaN;
      try {
        pid = Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8'));
      } catch {
        /* owner has not written its pid yet */
      }
      const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if ((pid && !isAlive(pid)) || (!pid && age > 60_000)) {
        log(`removing stale lock ${lock} (owner ${pid || 'unknown'} is gone)`);
        fs.rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for lock ${lock}`);
      onWait(pid);
      await sleep(2000);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

const FIRST_INSTALL = 'first install only, ~2.3 GB';
/** How many of a log's last lines a failure shows. */
const FAILURE_TAIL_LINES = 25;

/**
 * Runs one npm command: its output into `logFile` (appended), its progress on `line` (refreshed
 * every second). Rejects with the log's path and last lines when npm fails.
 */
function run(cmd, args, { cwd, env, what, step, logFile, line, expectedPackages, counts = true }) {
  return new Promise((resolve, reject) => {
    const startedAt = Date.now();
    const progress = new NpmProgress({ what, step, startedAt, expectedPackages, counts });
    const logStream = fs.createWriteStream(logFile, { flags: 'a' });
    logStream.write(`\n$ ${cmd} ${args.join(' ')}   (in ${cwd}, ${new Date(startedAt).toISOString()})\n`);
    const tail = [];
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const onLine = (text) => {
      logStream.write(`${text}\n`);
      // npm's http lines are in the log; what a failure shows is the rest (errors, warnings).
      if (!/^npm http /.test(text)) tail.push(text);
      if (tail.length > FAILURE_TAIL_LINES) tail.shift();
      progress.read(text, Date.now());
    };
    readline.createInterface({ input: child.stdout }).on('line', onLine);
    readline.createInterface({ input: child.stderr }).on('line', onLine);
    const show = () => line.update(progress.render(Date.now()), Date.now(), `${step} ${progress.phase(Date.now())}`);
    show();
    const ticker = setInterval(show, 1000);
    const finish = (error) => {
      clearInterval(ticker);
      logStream.end(() => (error ? reject(error) : resolve()));
    };
    child.on('error', (e) => finish(new Error(`${what}: ${step}: could not start ${cmd}: ${e.message} (log: ${logFile})`)));
    child.on('close', (code, signal) => {
      if (code === 0) return finish(null);
      const after = formatDuration(Date.now() - startedAt);
      finish(new Error(`${what}: \`${cmd} ${args.join(' ')}\` failed (exit ${code ?? signal}) after ${after}. Full npm log: ${logFile}\nIts last lines other than fetches:\n${tail.map((t) => `  | ${t}`).join('\n')}`));
    });
  });
}

function readMarker(dir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, '.complete'), 'utf8'));
  } catch {
    return null;
  }
}

function writeMarker(dir, info) {
  fs.writeFileSync(path.join(dir, '.complete'), JSON.stringify({ ...info, installedAt: new Date().toISOString() }, null, 2));
}

function baseEnv(extra = {}) {
  const env = { ...process.env, npm_config_yes: 'true', npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false', ...extra };
  return env;
}

/** Node <major> from the `node` npm package (which ships the binary and headers). */
async function ensureNode(major, line = new ProgressLine({ stream: process.stderr })) {
  const dir = path.join(cacheRoot(), `node-${major}`);
  const what = `Node ${major} (npm package node, for n8n)`;
  const locate = () => {
    // The `node` package's preinstall installs node-<platform>-<arch> (binary + include/node)
    // nested under node_modules/node/node_modules (older npm: hoisted to node_modules).
    const arch = `node-${process.platform}-${process.arch}`;
    const candidates = [path.join(dir, 'node_modules', 'node', 'node_modules', arch), path.join(dir, 'node_modules', arch)];
    const archPkg = candidates.find((c) => fs.existsSync(path.join(c, 'bin', 'node'))) || candidates[0];
    return { nodeBin: path.join(archPkg, 'bin', 'node'), headers: archPkg, root: dir };
  };
  if (readMarker(dir)) return locate();
  return withLock(
    dir,
    async () => {
      if (readMarker(dir)) return waitedFor(line, what, locate());
      const t0 = Date.now();
      const logFile = `${dir}.install.log`;
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `node-${major}-cache`, private: true }, null, 2));
      await run('npm', ['install', '--no-save', '--loglevel=http', `node@${major}`], { cwd: dir, env: baseEnv(), what, step: 'first install', logFile, line, counts: false });
      const loc = locate();
      if (!fs.existsSync(loc.nodeBin)) throw new Error(`node@${major} installed but ${loc.nodeBin} is missing`);
      const version = await capture(loc.nodeBin, ['--version']);
      if (!version.startsWith(`v${major}.`)) throw new Error(`expected Node ${major}, got ${version}`);
      if (!fs.existsSync(path.join(loc.headers, 'include', 'node', 'node.h'))) {
        throw new Error(`Node ${major} headers not found under ${loc.headers}/include/node`);
      }
      writeMarker(dir, { node: version, seconds: Math.round((Date.now() - t0) / 1000) });
      line.finish(`Node ${version} ready in ${formatDuration(Date.now() - t0)} (${dir})`);
      return loc;
    },
    { onWait: waitingLine(line, what) },
  );
}

/** Another run installed it while this one waited: the waiting line ends saying so. */
function waitedFor(line, what, value) {
  if (line.shown) line.finish(`${what}: installed by the other run`);
  return value;
}

/** onWait for withLock: the progress line says whose install it waits for, and how long. */
function waitingLine(line, what) {
  const since = Date.now();
  return (pid) => line.update(`${what}: waiting for another install (pid ${pid || '?'}) · ${formatDuration(Date.now() - since)}`, Date.now(), 'waiting');
}

function capture(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { env: env || process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (out += d));
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${out}`))));
  });
}

/**
 * @param {{ version?: string, node?: string }} [opts]
 * @returns {Promise<{ n8nBin: string, nodeBin: string, version: string, root: string, nodeMajor: number }>}
 */
async function ensureN8n(opts = {}) {
  const version = opts.version || DEFAULT_VERSION;
  const nodeMajor = opts.node !== undefined ? String(opts.node) : KNOWN[version];
  const line = new ProgressLine({ stream: process.stderr });
  let nodeBin = process.execPath;
  let nodeHeaders;
  if (nodeMajor && Number(nodeMajor) !== Number(process.versions.node.split('.')[0])) {
    const n = await ensureNode(nodeMajor, line);
    nodeBin = n.nodeBin;
    nodeHeaders = n.headers;
  }
  const suffix = nodeMajor ? `-node${nodeMajor}` : '';
  const dir = path.join(cacheRoot(), `n8n-${version}${suffix}`);
  const what = `n8n ${version}${nodeMajor ? ` on Node ${nodeMajor}` : ''}`;
  const result = () => ({
    n8nBin: path.join(dir, 'node_modules', 'n8n', 'bin', 'n8n'),
    nodeBin,
    version,
    root: dir,
    nodeMajor: Number(nodeMajor || process.versions.node.split('.')[0]),
  });
  if (readMarker(dir)) return result();
  return withLock(
    dir,
    async () => {
      if (readMarker(dir)) return waitedFor(line, what, result());
      const t0 = Date.now();
      const logFile = `${dir}.install.log`;
      fs.rmSync(logFile, { force: true });
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(
        path.join(dir, 'package.json'),
        JSON.stringify({ name: `n8n-${version}-cache`, private: true, dependencies: { n8n: version }, overrides: OVERRIDES }, null, 2),
      );
      const common = ['--no-audit', '--no-fund', '--loglevel=http'];
      const shared = { what, logFile, line, expectedPackages: PACKAGE_COUNTS[version] };
      try {
        if (!nodeHeaders) {
          await run('npm', ['install', ...common], { cwd: dir, env: baseEnv(), step: FIRST_INSTALL, ...shared });
        } else {
          // Node <major> first on PATH so npm, node-gyp and lifecycle scripts run on it; node-gyp
          // must use its headers (the global npmrc points nodedir at Node 20's /usr).
          const env = baseEnv({
            PATH: `${path.dirname(nodeBin)}${path.delimiter}${process.env.PATH}`,
            npm_config_nodedir: nodeHeaders,
          });
          await run('npm', ['install', '--ignore-scripts', ...common], { cwd: dir, env, step: FIRST_INSTALL, ...shared });
          await run('npm', ['rebuild', 'sqlite3', 'isolated-vm', '--foreground-scripts'], { cwd: dir, env, step: `building sqlite3 and isolated-vm for Node ${nodeMajor}`, ...shared, counts: false });
        }
      } catch (error) {
        line.finish(`${what}: install failed after ${formatDuration(Date.now() - t0)}; npm log: ${logFile}`);
        throw error;
      }
      const r = result();
      if (!fs.existsSync(r.n8nBin)) throw new Error(`n8n installed but ${r.n8nBin} is missing (npm log: ${logFile})`);
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', 'n8n', 'package.json'), 'utf8'));
      if (pkg.version !== version) throw new Error(`expected n8n ${version}, found ${pkg.version} (npm log: ${logFile})`);
      writeMarker(dir, { n8n: version, node: nodeMajor || process.versions.node, seconds: Math.round((Date.now() - t0) / 1000) });
      line.finish(`${what} installed in ${formatDuration(Date.now() - t0)} (${dir}; npm log: ${logFile})`);
      return r;
    },
    { onWait: waitingLine(line, what) },
  );
}

/** Environment to run an install's n8n with: its Node first on PATH. */
function n8nEnv(install, extra = {}) {
  return { ...process.env, PATH: `${path.dirname(install.nodeBin)}${path.delimiter}${process.env.PATH}`, ...extra };
}

module.exports = { ensureN8n, ensureNode, cacheRoot, n8nEnv, KNOWN, DEFAULT_VERSION, PACKAGE_COUNTS };

if (require.main === module) {
  (async () => {
    const arg = process.argv[2] || 'all';
    const versions = arg === 'all' ? Object.keys(KNOWN) : [arg];
    for (const v of versions) {
      const r = await ensureN8n({ version: v, node: KNOWN[v] });
      log(`n8n ${v} on Node ${r.nodeMajor}: ${r.root}`);
    }
  })().catch((e) => {
    process.stderr.write(`\n${e.message}\n`);
    process.exit(1);
  });
}
