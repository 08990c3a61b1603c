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
 * CLI: node scripts/n8n/install.js [all|2.8.4|2.41.1]
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');

const DEFAULT_VERSION = '2.8.4';
/** n8n versions the suite knows, with the Node major each needs (undefined = this Node). */
const KNOWN = { '2.8.4': undefined, '2.41.1': '24' };
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

/** mkdir-based lock with the owner's pid; waits (up to timeoutMs) for a live owner. */
async function withLock(dir, fn, timeoutMs = 30 * 60 * 1000) {
  const lock = `${dir}.lock`;
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const start = Date.now();
  let announced = false;
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
      if (!announced) {
        log(`waiting for another install (pid ${pid}) holding ${lock}`);
        announced = true;
      }
      if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for lock ${lock}`);
      await sleep(2000);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

function countEntries(dir) {
  try {
    let n = 0;
    for (const e of fs.readdirSync(dir)) n += e.startsWith('@') ? countEntries(path.join(dir, e)) : 1;
    return n;
  } catch {
    return 0;
  }
}

/** Runs a command, streaming its output with a prefix and printing a heartbeat every 15 s. */
function run(cmd, args, { cwd, env, label, watchDir }) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    log(`${label}: ${cmd} ${args.join(' ')}  (in ${cwd})`);
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail = [];
    let fetches = 0;
    const onData = (buf) => {
      for (const line of buf.toString().split('\n')) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 60) tail.shift();
        // `npm http fetch` lines are counted for the heartbeat instead of printed (thousands).
        if (/^npm http fetch /.test(line)) fetches++;
        else process.stderr.write(`  | ${line}\n`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const beat = setInterval(() => {
      const s = Math.round((Date.now() - started) / 1000);
      const pkgs = watchDir ? `, ${countEntries(path.join(watchDir, 'node_modules'))} packages in node_modules` : '';
      log(`${label}: still running, ${s}s, ${fetches} registry fetches${pkgs}`);
    }, 15_000);
    child.on('error', (e) => {
      clearInterval(beat);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearInterval(beat);
      const s = ((Date.now() - started) / 1000).toFixed(1);
      if (code === 0) {
        log(`${label}: done in ${s}s`);
        resolve();
      } else {
        reject(new Error(`${label} failed (exit ${code ?? signal}) after ${s}s:\n${tail.join('\n')}`));
      }
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
async function ensureNode(major) {
  const dir = path.join(cacheRoot(), `node-${major}`);
  const locate = () => {
    // The `node` package's preinstall installs node-<platform>-<arch> (binary + include/node)
    // nested under node_modules/node/node_modules (older npm: hoisted to node_modules).
    const arch = `node-${process.platform}-${process.arch}`;
    const candidates = [path.join(dir, 'node_modules', 'node', 'node_modules', arch), path.join(dir, 'node_modules', arch)];
    const archPkg = candidates.find((c) => fs.existsSync(path.join(c, 'bin', 'node'))) || candidates[0];
    return { nodeBin: path.join(archPkg, 'bin', 'node'), headers: archPkg, root: dir };
  };
  if (readMarker(dir)) return locate();
  return withLock(dir, async () => {
    if (readMarker(dir)) return locate();
    const t0 = Date.now();
    log(`installing Node ${major} into ${dir} (first time only)`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `node-${major}-cache`, private: true }, null, 2));
    await run('npm', ['install', '--no-save', '--loglevel=http', `node@${major}`], { cwd: dir, env: baseEnv(), label: `npm install node@${major}`, watchDir: dir });
    const loc = locate();
    if (!fs.existsSync(loc.nodeBin)) throw new Error(`node@${major} installed but ${loc.nodeBin} is missing`);
    const version = await capture(loc.nodeBin, ['--version']);
    if (!version.startsWith(`v${major}.`)) throw new Error(`expected Node ${major}, got ${version}`);
    if (!fs.existsSync(path.join(loc.headers, 'include', 'node', 'node.h'))) {
      throw new Error(`Node ${major} headers not found under ${loc.headers}/include/node`);
    }
    writeMarker(dir, { node: version, seconds: Math.round((Date.now() - t0) / 1000) });
    log(`Node ${version} ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    return loc;
  });
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
  let nodeBin = process.execPath;
  let nodeHeaders;
  if (nodeMajor && Number(nodeMajor) !== Number(process.versions.node.split('.')[0])) {
    const n = await ensureNode(nodeMajor);
    nodeBin = n.nodeBin;
    nodeHeaders = n.headers;
  }
  const suffix = nodeMajor ? `-node${nodeMajor}` : '';
  const dir = path.join(cacheRoot(), `n8n-${version}${suffix}`);
  const result = () => ({
    n8nBin: path.join(dir, 'node_modules', 'n8n', 'bin', 'n8n'),
    nodeBin,
    version,
    root: dir,
    nodeMajor: Number(nodeMajor || process.versions.node.split('.')[0]),
  });
  if (readMarker(dir)) return result();
  return withLock(dir, async () => {
    if (readMarker(dir)) return result();
    const t0 = Date.now();
    log(`installing n8n@${version} into ${dir} (first time only; several minutes, ~2.3 GB)`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'package.json'),
      JSON.stringify({ name: `n8n-${version}-cache`, private: true, dependencies: { n8n: version }, overrides: OVERRIDES }, null, 2),
    );
    const common = ['--no-audit', '--no-fund', '--loglevel=http'];
    if (!nodeHeaders) {
      await run('npm', ['install', ...common], { cwd: dir, env: baseEnv(), label: `npm install n8n@${version}`, watchDir: dir });
    } else {
      // Node <major> first on PATH so npm, node-gyp and lifecycle scripts run on it; node-gyp
      // must use its headers (the global npmrc points nodedir at Node 20's /usr).
      const env = baseEnv({
        PATH: `${path.dirname(nodeBin)}${path.delimiter}${process.env.PATH}`,
        npm_config_nodedir: nodeHeaders,
      });
      await run('npm', ['install', '--ignore-scripts', ...common], { cwd: dir, env, label: `npm install --ignore-scripts n8n@${version}`, watchDir: dir });
      await run('npm', ['rebuild', 'sqlite3', 'isolated-vm', '--foreground-scripts'], { cwd: dir, env, label: 'npm rebuild sqlite3 isolated-vm', watchDir: dir });
    }
    const r = result();
    if (!fs.existsSync(r.n8nBin)) throw new Error(`n8n installed but ${r.n8nBin} is missing`);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', 'n8n', 'package.json'), 'utf8'));
    if (pkg.version !== version) throw new Error(`expected n8n ${version}, found ${pkg.version}`);
    writeMarker(dir, { n8n: version, node: nodeMajor || process.versions.node, seconds: Math.round((Date.now() - t0) / 1000) });
    log(`n8n@${version} ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    return r;
  });
}

/** Environment to run an install's n8n with: its Node first on PATH. */
function n8nEnv(install, extra = {}) {
  return { ...process.env, PATH: `${path.dirname(install.nodeBin)}${path.delimiter}${process.env.PATH}`, ...extra };
}

module.exports = { ensureN8n, ensureNode, cacheRoot, n8nEnv, KNOWN, DEFAULT_VERSION };

if (require.main === module) {
  (async () => {
    const arg = process.argv[2] || 'all';
    const versions = arg === 'all' ? Object.keys(KNOWN) : [arg];
    for (const v of versions) {
      const t0 = Date.now();
      const r = await ensureN8n({ version: v, node: KNOWN[v] });
      log(`n8n ${v}: ${JSON.stringify(r)} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
    }
  })().catch((e) => {
    log(e.stack || String(e));
    process.exit(1);
  });
}
