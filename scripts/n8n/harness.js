'use strict';
/**
 * Runs a REAL n8n (installed by ./install.js) with this repository loaded as the community
 * package `n8n-nodes-kallglot`, for the end-to-end suite. Plain Node (>= 20), no dependencies.
 *
 *   const { ensureN8n } = require('./install');
 *   const { startN8n } = require('./harness');
 *   const n8n = await startN8n({ install: await ensureN8n({ version: '2.8.4' }) });
 *   await n8n.ensureOwner();            // owner account + session cookie
 *   await n8n.createApiKey();           // public API key (X-N8N-API-KEY)
 *   const cred = await n8n.createCredential('kallglotApi', { apiKey, baseUrl });
 *   await n8n.testCredential(cred.id);  // -> { status: 'OK' | 'Error', message }
 *   await n8n.stop();
 *
 * Every server binds to 127.0.0.1 on ports picked here; its output goes to a log file under
 * test-artifacts/n8n-logs/. Only processes started here are stopped (by process group).
 * See harness.d.ts for the full API.
 */
const fs = require('fs');
const os = require('os');
const http = require('http');
const net = require('net');
const path = require('path');
const crypto = require('crypto');
const { spawn, execFile } = require('child_process');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
/** Folder linked into n8n as the package: the repository, or E2E_PACKAGE_ROOT (e.g. an unpacked `npm pack`). */
const PACKAGE_ROOT = process.env.E2E_PACKAGE_ROOT ? path.resolve(process.env.E2E_PACKAGE_ROOT) : REPO_ROOT;
const PACKAGE_NAME = 'n8n-nodes-kallglot';
const ARTIFACTS_DIR = process.env.E2E_ARTIFACTS_DIR ? path.resolve(process.env.E2E_ARTIFACTS_DIR) : path.join(REPO_ROOT, 'test-artifacts');
const LOG_DIR = path.join(ARTIFACTS_DIR, 'n8n-logs');
const DEFAULT_OWNER = Object.freeze({
  email: 'owner@e2e.kallglot.test',
  password: 'E2e-Passw0rd!kallglot',
  firstName: 'E2E',
  lastName: 'Owner',
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class N8nHttpError extends Error {
  constructor(method, url, status, body) {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    super(`${method} ${url} -> HTTP ${status}: ${String(text).slice(0, 1000)}`);
    this.name = 'N8nHttpError';
    this.status = status;
    this.body = body;
  }
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Throws a clear error when the package has not been built (the harness never builds). */
function assertDistBuilt(root = PACKAGE_ROOT) {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const files = [...(pkg.n8n?.nodes ?? []), ...(pkg.n8n?.credentials ?? [])];
  const missing = files.filter((f) => !fs.existsSync(path.join(root, f)));
  if (files.length === 0 || missing.length > 0) {
    throw new Error(
      `The package is not built: ${missing.length ? `missing ${missing.join(', ')}` : 'package.json has no "n8n" block'} ` +
        `(in ${root}). Run \`npm run build\` before the e2e suite; the suite builds nothing itself.`,
    );
  }
  return files.map((f) => path.join(root, f));
}

/** Links `root` as node_modules/n8n-nodes-kallglot in <userFolder>/.n8n/nodes, where n8n loads community packages. */
function linkPackage(userFolder, root = PACKAGE_ROOT) {
  const nodesDir = path.join(userFolder, '.n8n', 'nodes');
  const modules = path.join(nodesDir, 'node_modules');
  fs.mkdirSync(modules, { recursive: true });
  const link = path.join(modules, PACKAGE_NAME);
  const existing = fs.lstatSync(link, { throwIfNoEntry: false });
  if (existing) {
    if (existing.isSymbolicLink() && fs.readlinkSync(link) === root) return link;
    fs.rmSync(link, { recursive: true, force: true });
  }
  fs.symlinkSync(root, link, 'dir');
  const pkgJson = path.join(nodesDir, 'package.json');
  if (!fs.existsSync(pkgJson)) {
    fs.writeFileSync(pkgJson, JSON.stringify({ name: 'installed-nodes', private: true, dependencies: {} }, null, 2));
  }
  return link;
}

function stamp() {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

function newUserFolder(label) {
  const base = path.join(os.tmpdir(), 'n8n-nodes-kallglot-e2e');
  fs.mkdirSync(base, { recursive: true });
  return fs.mkdtempSync(path.join(base, `${label}-`));
}

function processAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** Parses `name=value` pairs out of Set-Cookie headers. */
function cookiesFrom(res) {
  const list = typeof res.headers.getSetCookie === 'function' ? res.headers.getSetCookie() : [res.headers.get('set-cookie')].filter(Boolean);
  const out = {};
  for (const c of list) {
    const [pair] = c.split(';');
    const i = pair.indexOf('=');
    if (i > 0) out[pair.slice(0, i).trim()] = pair.slice(i + 1).trim();
  }
  return out;
}

async function readBody(res) {
  const text = await res.text();
  const type = res.headers.get('content-type') || '';
  if (type.includes('json') && text) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/** Environment variables we never pass on (jest sets NODE_ENV=test, which stops n8n loading nodes). */
function cleanParentEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^(N8N_|DB_|QUEUE_|EXECUTIONS_|WEBHOOK_URL$|GENERIC_TIMEZONE$|JEST_|OFFLOAD_MANUAL)/.test(k)) delete env[k];
  }
  delete env.NODE_ENV;
  delete env.NODE_OPTIONS;
  delete env.npm_config_nodedir;
  return env;
}

/**
 * Starts n8n. Options (all optional except `install`, which defaults to E2E_N8N_VERSION's install):
 *   install        result of ensureN8n()
 *   userFolder     N8N_USER_FOLDER (n8n keeps `.n8n/` in it); default: a fresh temp folder
 *   mode           'regular' (default) | 'queue-main' | 'queue-worker'
 *   env            extra environment (wins over the defaults)
 *   port           N8N_PORT (default: free port); brokerPort: N8N_RUNNERS_BROKER_PORT (default: free)
 *   healthPort     worker only: QUEUE_HEALTH_CHECK_PORT (default: free)
 *   name           label for the log file (default: mode)
 *   logLevel       N8N_LOG_LEVEL (default E2E_N8N_LOG_LEVEL or 'debug')
 *   encryptionKey  N8N_ENCRYPTION_KEY (default: random per instance, kept over restarts)
 *   linkPackage    link this repository as the community package (default true)
 *   packageRoot    folder linked as the package (default: E2E_PACKAGE_ROOT or this repository)
 *   readyTimeoutMs how long to wait for readiness (default 180 s)
 *   args           extra CLI args (e.g. ['--concurrency=5'] for a worker)
 */
async function startN8n(opts = {}) {
  const install = opts.install || (await require('./install').ensureN8n(e2eInstallOptions()));
  const mode = opts.mode || 'regular';
  if (!['regular', 'queue-main', 'queue-worker', 'queue-webhook'].includes(mode)) throw new Error(`unknown mode ${mode}`);
  const name = opts.name || mode;
  const userFolder = opts.userFolder || newUserFolder(`${install.version}-${name}`);
  fs.mkdirSync(userFolder, { recursive: true });
  const packageRoot = opts.packageRoot || PACKAGE_ROOT;
  if (opts.linkPackage !== false) {
    assertDistBuilt(packageRoot);
    linkPackage(userFolder, packageRoot);
  }
  const inst = new N8nInstance({
    install,
    mode,
    name,
    userFolder,
    port: opts.port || (await freePort()),
    brokerPort: opts.brokerPort || (await freePort()),
    healthPort: mode === 'queue-worker' ? opts.healthPort || (await freePort()) : undefined,
    encryptionKey: opts.encryptionKey || crypto.randomBytes(24).toString('hex'),
    extraEnv: opts.env || {},
    logLevel: opts.logLevel || process.env.E2E_N8N_LOG_LEVEL || 'debug',
    readyTimeoutMs: opts.readyTimeoutMs || 180_000,
    args: opts.args || [],
    owner: { ...DEFAULT_OWNER, ...(opts.owner || {}) },
  });
  await inst.start();
  return inst;
}

function e2eInstallOptions() {
  const version = process.env.E2E_N8N_VERSION || '2.8.4';
  const { KNOWN } = require('./install');
  return { version, node: process.env.E2E_N8N_NODE || KNOWN[version] };
}

class N8nInstance {
  constructor(o) {
    this.install = o.install;
    this.version = o.install.version;
    this.mode = o.mode;
    this.name = o.name;
    this.userFolder = o.userFolder;
    this.port = o.port;
    this.brokerPort = o.brokerPort;
    this.healthPort = o.healthPort;
    this.encryptionKey = o.encryptionKey;
    this.extraEnv = o.extraEnv;
    this.logLevel = o.logLevel;
    this.readyTimeoutMs = o.readyTimeoutMs;
    this.args = o.args;
    this.owner = o.owner;
    this.baseUrl = `http://127.0.0.1:${this.port}`;
    this.cookie = undefined;
    this.apiKey = undefined;
    this.browserId = crypto.randomUUID();
    this.pid = undefined;
    this.child = undefined;
    this.startCount = 0;
    fs.mkdirSync(LOG_DIR, { recursive: true });
    this.logFile = path.join(LOG_DIR, `${stamp()}-${this.version}-${this.name}.log`);
  }

  /** The environment n8n runs with (defaults, then `env` from the options). */
  get env() {
    const base = cleanParentEnv();
    const nodeDir = path.dirname(this.install.nodeBin);
    const env = {
      ...base,
      PATH: `${nodeDir}${path.delimiter}${base.PATH || ''}`,
      NODE_ENV: 'production',
      NO_COLOR: '1',
      FORCE_COLOR: '0',
      N8N_USER_FOLDER: this.userFolder,
      N8N_PORT: String(this.port),
      N8N_LISTEN_ADDRESS: '127.0.0.1',
      N8N_HOST: '127.0.0.1',
      N8N_PROTOCOL: 'http',
      WEBHOOK_URL: `${this.baseUrl}/`,
      N8N_EDITOR_BASE_URL: `${this.baseUrl}/`,
      N8N_RUNNERS_BROKER_PORT: String(this.brokerPort),
      N8N_RUNNERS_BROKER_LISTEN_ADDRESS: '127.0.0.1',
      N8N_ENCRYPTION_KEY: this.encryptionKey,
      N8N_DIAGNOSTICS_ENABLED: 'false',
      N8N_DIAGNOSTICS_CONFIG_FRONTEND: '',
      N8N_DIAGNOSTICS_CONFIG_BACKEND: '',
      N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
      N8N_VERSION_NOTIFICATIONS_WHATS_NEW_ENABLED: 'false',
      N8N_DYNAMIC_BANNERS_ENABLED: 'false',
      N8N_TEMPLATES_ENABLED: 'false',
      N8N_PERSONALIZATION_ENABLED: 'false',
      N8N_HIRING_BANNER_ENABLED: 'false',
      N8N_AI_ENABLED: 'false',
      EXTERNAL_FRONTEND_HOOKS_URLS: '',
      N8N_SECURE_COOKIE: 'false',
      N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
      N8N_COMMUNITY_PACKAGES_ENABLED: 'true',
      N8N_REINSTALL_MISSING_PACKAGES: 'false',
      N8N_PUBLIC_API_DISABLED: 'false',
      N8N_PUBLIC_API_SWAGGERUI_DISABLED: 'true',
      N8N_LOG_LEVEL: this.logLevel,
      N8N_LOG_OUTPUT: 'console',
      N8N_GRACEFUL_SHUTDOWN_TIMEOUT: '10',
      GENERIC_TIMEZONE: 'UTC',
      TZ: 'UTC',
    };
    if (this.mode !== 'regular') env.EXECUTIONS_MODE = 'queue';
    if (this.mode === 'queue-worker') {
      env.QUEUE_HEALTH_CHECK_ACTIVE = 'true';
      env.QUEUE_HEALTH_CHECK_PORT = String(this.healthPort);
      env.N8N_WORKER_SERVER_ADDRESS = '127.0.0.1';
    }
    return { ...env, ...this.extraEnv };
  }

  get running() {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process (again, on the same user folder, ports and key, after stop()). */
  async start() {
    if (this.running) throw new Error(`${this.name} is already running (pid ${this.pid})`);
    this.startCount += 1;
    const fd = fs.openSync(this.logFile, 'a');
    fs.writeSync(fd, `\n===== [harness] start #${this.startCount} ${new Date().toISOString()} n8n ${this.version} mode=${this.mode} port=${this.port} broker=${this.brokerPort}${this.healthPort ? ` health=${this.healthPort}` : ''} userFolder=${this.userFolder}\n`);
    this.logOffsetAtStart = fs.fstatSync(fd).size;
    const cmd = { 'queue-worker': 'worker', 'queue-webhook': 'webhook' }[this.mode] || 'start';
    const child = spawn(this.install.nodeBin, [this.install.n8nBin, cmd, ...this.args], {
      cwd: this.userFolder,
      env: this.env,
      detached: true, // own process group: stop() kills n8n and its task runners, nothing else
      stdio: ['ignore', fd, fd],
    });
    fs.closeSync(fd);
    this.child = child;
    this.pid = child.pid;
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.once('error', (e) => fs.appendFileSync(this.logFile, `[harness] spawn error: ${e.stack}\n`));
    const t0 = Date.now();
    try {
      await this.waitReady();
    } catch (e) {
      await this.stop().catch(() => {});
      throw e;
    }
    this.lastStartMs = Date.now() - t0;
    return this;
  }

  async waitReady() {
    const deadline = Date.now() + this.readyTimeoutMs;
    const probes =
      this.mode === 'queue-worker'
        ? [`http://127.0.0.1:${this.healthPort}/healthz/readiness`]
        : this.mode === 'queue-webhook'
          ? [`${this.baseUrl}/healthz/readiness`] // a webhook process serves no REST API
          : [`${this.baseUrl}/healthz/readiness`, `${this.baseUrl}/rest/settings`]; // readiness comes ~2 s before REST routes
    for (const url of probes) {
      for (;;) {
        if (!this.running) {
          throw new Error(`n8n ${this.version} (${this.name}) exited during startup (${JSON.stringify(await this.exited)}); log ${this.logFile}:\n${this.tail(60)}`);
        }
        try {
          const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
          await res.arrayBuffer();
          if (res.status === 200) break;
        } catch {
          /* not listening yet */
        }
        if (Date.now() > deadline) {
          throw new Error(`n8n ${this.version} (${this.name}) not ready after ${this.readyTimeoutMs} ms (${url}); log ${this.logFile}:\n${this.tail(60)}`);
        }
        await sleep(250);
      }
    }
  }

  /** Stops the process group (SIGTERM, then SIGKILL after timeoutMs) and waits for exit. */
  async stop({ timeoutMs = 20_000 } = {}) {
    const child = this.child;
    if (!child || !this.running) return this.exited ? await this.exited : undefined;
    const group = -child.pid;
    try {
      process.kill(group, 'SIGTERM');
    } catch {
      /* already gone */
    }
    let timer;
    const first = await Promise.race([this.exited, new Promise((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)))]);
    clearTimeout(timer);
    if (first === 'timeout') {
      fs.appendFileSync(this.logFile, `[harness] no exit ${timeoutMs} ms after SIGTERM: SIGKILL to group ${child.pid}\n`);
      try {
        process.kill(group, 'SIGKILL');
      } catch {
        /* gone */
      }
      await this.exited;
    }
    // task runners share the group; make sure none outlives n8n
    for (let i = 0; i < 50; i++) {
      try {
        process.kill(group, 0);
      } catch {
        break;
      }
      if (i === 20) {
        try {
          process.kill(group, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      await sleep(100);
    }
    fs.appendFileSync(this.logFile, `===== [harness] stopped ${new Date().toISOString()}\n`);
    return this.exited;
  }

  /** stop() then start() on the same user folder, ports and encryption key. */
  async restart() {
    await this.stop();
    await this.start();
    return this;
  }

  /** Stops and deletes the user folder (not the log; E2E_KEEP_USER_FOLDERS=1 keeps it). */
  async dispose() {
    await this.stop();
    if (process.env.E2E_KEEP_USER_FOLDERS === '1') return;
    fs.rmSync(this.userFolder, { recursive: true, force: true });
  }

  // ---- logs ---------------------------------------------------------------------------------

  /** Whole log file (all starts) as text; `sinceStart` limits it to the current start. */
  readLog({ sinceStart = false } = {}) {
    const text = fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile, 'utf8') : '';
    return sinceStart ? Buffer.from(text).subarray(this.logOffsetAtStart || 0).toString('utf8') : text;
  }

  tail(lines = 40) {
    return this.readLog().split('\n').slice(-lines).join('\n');
  }

  /** Waits until the log (from `fromOffset`, default: current start) matches `re`. */
  async waitForLog(re, { timeoutMs = 30_000, fromOffset } = {}) {
    const start = fromOffset ?? this.logOffsetAtStart ?? 0;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = Buffer.from(this.readLog()).subarray(start).toString('utf8');
      const m = text.match(re);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`log of ${this.name} did not match ${re} within ${timeoutMs} ms; tail:\n${this.tail(30)}`);
      await sleep(200);
    }
  }

  /** Current size of the log, to pass as `fromOffset` to waitForLog. */
  logOffset() {
    return fs.existsSync(this.logFile) ? fs.statSync(this.logFile).size : 0;
  }

  // ---- HTTP ---------------------------------------------------------------------------------

  /** fetch() against this n8n with the session cookie (and browser-id) when signed in. */
  async fetch(p, init = {}) {
    const headers = { 'browser-id': this.browserId, ...(init.headers || {}) };
    if (this.cookie && !headers.cookie) headers.cookie = this.cookie;
    return fetchIdempotentRetry(p.startsWith('http') ? p : `${this.baseUrl}${p}`, { ...init, headers, signal: init.signal || AbortSignal.timeout(60_000) });
  }

  /** Calls the editor's REST API (/rest/...) with the session cookie; returns `data` of the answer. */
  async rest(method, p, body, { okStatuses, raw = false } = {}) {
    const url = p.startsWith('/rest') ? p : `/rest${p}`;
    const res = await this.fetch(url, {
      method,
      headers: body !== undefined ? { 'content-type': 'application/json' } : {},
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const parsed = await readBody(res);
    if (raw) return { status: res.status, body: parsed, headers: res.headers };
    if (!(okStatuses ? okStatuses.includes(res.status) : res.ok)) throw new N8nHttpError(method, url, res.status, parsed);
    return parsed && typeof parsed === 'object' && 'data' in parsed ? parsed.data : parsed;
  }

  /** Calls the public API (/api/v1/...) with the API key (createApiKey() first). */
  async api(method, p, body, { okStatuses, raw = false } = {}) {
    if (!this.apiKey) throw new Error('no public API key: call createApiKey() first');
    const url = p.startsWith('/api/') ? p : `/api/v1${p}`;
    const res = await fetchIdempotentRetry(`${this.baseUrl}${url}`, {
      method,
      headers: { 'X-N8N-API-KEY': this.apiKey, accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(60_000),
    });
    const parsed = await readBody(res);
    if (raw) return { status: res.status, body: parsed, headers: res.headers };
    if (!(okStatuses ? okStatuses.includes(res.status) : res.ok)) throw new N8nHttpError(method, url, res.status, parsed);
    return parsed;
  }

  // ---- users, sessions, keys ----------------------------------------------------------------

  async settings() {
    return this.rest('GET', '/settings');
  }

  /** POST /rest/owner/setup (first start only); keeps the session cookie. */
  async setupOwner(owner = this.owner) {
    this.owner = { ...this.owner, ...owner };
    const res = await this.fetch('/rest/owner/setup', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(this.owner),
    });
    const body = await readBody(res);
    if (!res.ok) throw new N8nHttpError('POST', '/rest/owner/setup', res.status, body);
    this.takeCookie(res);
    return body.data ?? body;
  }

  /** POST /rest/login; keeps the session cookie. */
  async login({ email = this.owner.email, password = this.owner.password } = {}) {
    const res = await this.fetch('/rest/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ emailOrLdapLoginId: email, email, password }),
    });
    const body = await readBody(res);
    if (!res.ok) throw new N8nHttpError('POST', '/rest/login', res.status, body);
    this.takeCookie(res);
    return body.data ?? body;
  }

  takeCookie(res) {
    const c = cookiesFrom(res);
    if (!c['n8n-auth']) throw new Error(`n8n did not set the n8n-auth cookie (got: ${Object.keys(c).join(', ') || 'none'})`);
    this.cookie = `n8n-auth=${c['n8n-auth']}`;
  }

  /** Sets the owner up on a fresh instance, or signs in on a used one. */
  async ensureOwner() {
    const s = await this.settings();
    if (s?.userManagement?.showSetupOnFirstLoad) return this.setupOwner();
    return this.login();
  }

  /**
   * Creates a public-API key through /rest/api-keys (what Settings → n8n API does). The body
   * needs `label`, `scopes` and `expiresAt` in 2.x; scopes come from GET /rest/api-keys/scopes
   * (without the API-key-scopes licence n8n grants the role's full set anyway).
   */
  async createApiKey({ label = `e2e-${Date.now()}`, scopes } = {}) {
    if (!this.cookie) await this.ensureOwner();
    const all = scopes || (await this.rest('GET', '/api-keys/scopes'));
    const key = await this.rest('POST', '/api-keys', { label, scopes: all, expiresAt: null });
    this.apiKey = key.rawApiKey || key.apiKey;
    if (!this.apiKey || this.apiKey.includes('*')) throw new Error(`no raw API key in the answer: ${JSON.stringify(key)}`);
    return this.apiKey;
  }

  // ---- node and credential types ------------------------------------------------------------

  /** GET /types/nodes.json (what the editor loads): every registered node type description. */
  async getNodeTypes() {
    const res = await this.fetch('/types/nodes.json');
    const body = await readBody(res);
    if (!res.ok) throw new N8nHttpError('GET', '/types/nodes.json', res.status, body);
    return body;
  }

  /** GET /types/credentials.json: every registered credential type. */
  async getCredentialTypes() {
    const res = await this.fetch('/types/credentials.json');
    const body = await readBody(res);
    if (!res.ok) throw new N8nHttpError('GET', '/types/credentials.json', res.status, body);
    return body;
  }

  // ---- credentials --------------------------------------------------------------------------

  /**
   * Creates a credential through the public API (POST /api/v1/credentials). For a type with
   * `authenticate`, n8n 2.x adds `allowedHttpRequestDomains` to its schema; it defaults to 'all'.
   * via: 'rest' uses the editor's POST /rest/credentials instead.
   */
  async createCredential(type, data, { name = `${type} e2e ${Date.now()}`, via = 'api' } = {}) {
    const payload = { name, type, data: { allowedHttpRequestDomains: 'all', ...data } };
    if (via === 'rest') return this.rest('POST', '/credentials', payload);
    if (!this.apiKey) await this.createApiKey();
    return this.api('POST', '/credentials', payload);
  }

  /** GET /rest/credentials/:id?includeData=true (secrets come back redacted). */
  async getCredential(id) {
    return this.rest('GET', `/credentials/${id}?includeData=true`);
  }

  /**
   * The editor's credential test: POST /rest/credentials/test { credentials: { id, name, type, data } }.
   * Accepts a stored credential's id (or an object with id); `data` overrides stored fields.
   * Resolves to n8n's answer, { status: 'OK' | 'Error', message }.
   */
  async testCredential(idOrCredential, { data } = {}) {
    const id = typeof idOrCredential === 'object' ? idOrCredential.id : idOrCredential;
    const stored = await this.getCredential(id);
    const credentials = { id: stored.id, name: stored.name, type: stored.type, data: { ...(stored.data || {}), ...(data || {}) } };
    return this.rest('POST', '/credentials/test', { credentials });
  }

  // ---- workflows ----------------------------------------------------------------------------

  /**
   * Creates a workflow through the public API (POST /api/v1/workflows) from workflow JSON
   * (name, nodes, connections, settings, staticData; other fields are dropped). `credentials`
   * maps a credential type to { id, name } and is written into every node that lists that type.
   */
  async importWorkflow(json, { credentials, name } = {}) {
    if (!this.apiKey) await this.createApiKey();
    const wf = typeof json === 'string' ? JSON.parse(json) : JSON.parse(JSON.stringify(json));
    if (credentials) {
      for (const node of wf.nodes) {
        for (const [type, ref] of Object.entries(credentials)) {
          if (node.credentials && type in node.credentials) node.credentials[type] = { id: String(ref.id), name: ref.name };
        }
      }
    }
    const body = { name: name || wf.name || `e2e ${Date.now()}`, nodes: wf.nodes, connections: wf.connections || {}, settings: wf.settings || {} };
    if (wf.staticData) body.staticData = wf.staticData;
    return this.api('POST', '/workflows', body);
  }

  async getWorkflow(id) {
    return this.rest('GET', `/workflows/${id}`);
  }

  /**
   * Publication state of a workflow. n8n 2.41.1: GET /rest/workflows/:id/publication-status →
   * { status: 'in_progress' | 'not_published' | 'published' | 'partial' | 'failed', liveVersionId,
   * pendingVersionId, triggers: [{ nodeId, status, errorMessage }] }. n8n 2.8.4 has no such
   * endpoint (activation is synchronous there): resolves to undefined.
   */
  async publicationStatus(id) {
    const r = await this.rest('GET', `/workflows/${id}/publication-status`, undefined, { raw: true });
    if (r.status === 404) return undefined; // 2.8.4: no such route
    if (r.status >= 400) throw new N8nHttpError('GET', `/rest/workflows/${id}/publication-status`, r.status, r.body);
    return r.body && typeof r.body === 'object' && 'data' in r.body ? r.body.data : r.body;
  }

  /**
   * Waits until the publication of a workflow has settled (2.41.1 publishes through an outbox,
   * asynchronously after the API answered). Resolves to the status (undefined on 2.8.4).
   * `until`: a status to wait for (e.g. 'published' after a restart); default: anything but in_progress.
   */
  async waitForPublication(id, { until, timeoutMs = 60_000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const st = await this.publicationStatus(id);
      if (st === undefined) return undefined;
      if (until ? st.status === until : st.status !== 'in_progress') return st;
      if (Date.now() > deadline) throw new Error(`workflow ${id}: publication status ${st.status} after ${timeoutMs} ms${until ? ` (waiting for ${until})` : ''}: ${JSON.stringify(st.triggers)}`);
      await sleep(200);
    }
  }

  /**
   * Activates (2.x: "publishes") a workflow: POST /api/v1/workflows/:id/activate (same in 2.8.4
   * and 2.41.1). 2.8.4 registers the triggers before answering (a failing trigger makes the call
   * fail); 2.41.1 answers first and applies the publication asynchronously, so this waits for it
   * and throws when a trigger failed to activate (unless throwOnFailure: false). The result has
   * `publication` (2.41.1 status, or undefined on 2.8.4).
   */
  async activate(id, { wait = true, throwOnFailure = true, timeoutMs = 60_000 } = {}) {
    const wf = await this.api('POST', `/workflows/${id}/activate`);
    if (!wait) return wf;
    const publication = await this.waitForPublication(id, { timeoutMs });
    if (publication && throwOnFailure && publication.status !== 'published') {
      const why = (publication.triggers || []).filter((t) => t.status !== 'activated').map((t) => `${t.nodeId}: ${t.status} ${t.errorMessage || ''}`.trim());
      const err = new Error(`workflow ${id} was not published: ${publication.status}${why.length ? ` (${why.join('; ')})` : ''}`);
      err.publication = publication;
      throw err;
    }
    return { ...wf, publication };
  }

  /** Deactivates (2.x: "unpublishes"): POST /api/v1/workflows/:id/deactivate; waits like activate(). */
  async deactivate(id, { wait = true, timeoutMs = 60_000 } = {}) {
    const wf = await this.api('POST', `/workflows/${id}/deactivate`);
    if (!wait) return wf;
    const publication = await this.waitForPublication(id, { timeoutMs });
    return { ...wf, publication };
  }

  /** Active workflow ids as the editor sees them (GET /rest/active-workflows). */
  async activeWorkflowIds() {
    return this.rest('GET', '/active-workflows');
  }

  /**
   * Runs a saved workflow like the editor's "Execute workflow": POST /rest/workflows/:id/run
   * { workflowData, triggerToStartFrom: { name } }. The trigger defaults to the first Manual
   * Trigger. Waits for the execution to finish (wait: false returns { executionId }).
   */
  async runWorkflow(id, { triggerNode, wait = true, timeoutMs = 60_000 } = {}) {
    const wf = await this.getWorkflow(id);
    const trigger = triggerNode || wf.nodes.find((n) => n.type === 'n8n-nodes-base.manualTrigger')?.name;
    const payload = { workflowData: wf };
    if (trigger) payload.triggerToStartFrom = { name: trigger };
    const result = await this.rest('POST', `/workflows/${id}/run`, payload);
    if (!result || !result.executionId) throw new Error(`manual run did not start an execution: ${JSON.stringify(result)}`);
    if (!wait) return result;
    return this.waitForExecution(result.executionId, { timeoutMs });
  }

  /**
   * Runs `n8n <args>` as a separate CLI process on this instance's user folder and database
   * (its own broker port). E.g. cli(['execute', `--id=${id}`, '--rawOutput']).
   */
  async cli(args, { timeoutMs = 120_000 } = {}) {
    const env = { ...this.env, N8N_RUNNERS_BROKER_PORT: String(await freePort()), N8N_PORT: String(await freePort()), N8N_LOG_LEVEL: 'warn' };
    return new Promise((resolve) => {
      execFile(this.install.nodeBin, [this.install.n8nBin, ...args], { env, cwd: this.userFolder, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        fs.appendFileSync(this.logFile, `[harness] cli ${args.join(' ')} -> ${err ? `error ${err.code ?? err.signal}` : 'ok'}\n${stdout}\n${stderr}\n`);
        // n8n 2.41.1 on Node 24: `execute` finishes the run, prints it, then may die with SIGSEGV on exit.
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, signal: err?.signal ?? null, stdout, stderr });
      });
    });
  }

  // ---- executions ---------------------------------------------------------------------------

  /** GET /api/v1/executions/:id?includeData=… */
  async getExecution(id, { includeData = true } = {}) {
    return this.api('GET', `/executions/${id}?includeData=${includeData}`);
  }

  /** GET /api/v1/executions (filters: workflowId, status, includeData, limit). Newest first. */
  async listExecutions({ workflowId, status, includeData = false, limit = 100 } = {}) {
    const q = new URLSearchParams({ includeData: String(includeData), limit: String(limit) });
    if (workflowId) q.set('workflowId', String(workflowId));
    if (status) q.set('status', status);
    const res = await this.api('GET', `/executions?${q}`);
    return res.data;
  }

  /** Polls until the execution is no longer new/running; resolves to it with data. */
  async waitForExecution(id, { timeoutMs = 60_000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ex = await this.getExecution(id, { includeData: true }).catch((e) => {
        if (e.status === 404) return undefined;
        throw e;
      });
      if (ex && !['new', 'running'].includes(ex.status) && (ex.finished || ex.stoppedAt)) return ex;
      if (Date.now() > deadline) throw new Error(`execution ${id} not finished after ${timeoutMs} ms (status ${ex?.status})`);
      await sleep(250);
    }
  }

  /** Waits until a workflow has at least `count` finished executions; resolves to them (with data). */
  async waitForExecutions(workflowId, count = 1, { timeoutMs = 60_000, status } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const list = (await this.listExecutions({ workflowId, status, includeData: true })).filter((e) => !['new', 'running'].includes(e.status) && e.stoppedAt);
      if (list.length >= count) return list;
      if (Date.now() > deadline) throw new Error(`workflow ${workflowId}: ${list.length}/${count} executions after ${timeoutMs} ms`);
      await sleep(300);
    }
  }
}

// ---- queue mode ------------------------------------------------------------------------------

function tcpReachable(host, port, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (err) => {
      s.destroy();
      resolve(err ? err.code || err.message : null);
    };
    s.setTimeout(timeoutMs, () => done(new Error('timeout')));
    s.once('connect', () => done(null));
    s.once('error', done);
  });
}

/** Minimal Redis client for a few commands (RESP2). */
/**
 * fetch() that retries a GET/HEAD once when the server closed the kept-alive socket just as the
 * request went out (undici: "other side closed"): n8n's keep-alive timeout races the client's
 * reuse of an idle connection on a loaded machine. Other methods are never retried: the request
 * may have been taken.
 */
async function fetchIdempotentRetry(url, init = {}) {
  const method = (init.method || 'GET').toUpperCase();
  try {
    return await fetch(url, init);
  } catch (e) {
    const code = e && e.cause && e.cause.code;
    const staleSocket = code === 'UND_ERR_SOCKET' || code === 'ECONNRESET';
    if (!staleSocket || (method !== 'GET' && method !== 'HEAD') || init.signal?.aborted) throw e;
    return fetch(url, init);
  }
}

function redisCommand({ host, port }, ...args) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    s.setTimeout(5000, () => {
      s.destroy();
      reject(new Error('redis timeout'));
    });
    s.on('error', reject);
    s.on('connect', () => {
      s.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join(''));
    });
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const r = parseResp(buf, 0);
      if (r) {
        s.end();
        r.value instanceof Error ? reject(r.value) : resolve(r.value);
      }
    });
  });
}

function parseResp(buf, i) {
  const nl = buf.indexOf('\r\n', i);
  if (nl < 0) return null;
  const type = String.fromCharCode(buf[i]);
  const line = buf.subarray(i + 1, nl).toString();
  const next = nl + 2;
  if (type === '+') return { value: line, end: next };
  if (type === '-') return { value: new Error(line), end: next };
  if (type === ':') return { value: Number(line), end: next };
  if (type === '$') {
    const len = Number(line);
    if (len < 0) return { value: null, end: next };
    if (buf.length < next + len + 2) return null;
    return { value: buf.subarray(next, next + len).toString(), end: next + len + 2 };
  }
  if (type === '*') {
    const n = Number(line);
    const out = [];
    let pos = next;
    for (let k = 0; k < n; k++) {
      const r = parseResp(buf, pos);
      if (!r) return null;
      out.push(r.value);
      pos = r.end;
    }
    return { value: out, end: pos };
  }
  throw new Error(`unexpected RESP type ${type}`);
}

function psql(pg, sql, database = 'postgres') {
  return new Promise((resolve, reject) => {
    execFile(
      'psql',
      ['-h', pg.host, '-p', String(pg.port), '-U', pg.user, '-d', database, '-v', 'ON_ERROR_STOP=1', '-tAc', sql],
      { env: { ...process.env, PGPASSWORD: pg.password || '', PGCONNECT_TIMEOUT: '5' }, timeout: 60_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`psql (${sql}): ${stderr || err.message}`)) : resolve(stdout.trim())),
    );
  });
}

const DEFAULT_PG = { host: process.env.E2E_PG_HOST || '127.0.0.1', port: Number(process.env.E2E_PG_PORT || 5432), user: process.env.E2E_PG_USER || 'postgres', password: process.env.E2E_PG_PASSWORD || '' };
const DEFAULT_REDIS = { host: process.env.E2E_REDIS_HOST || '127.0.0.1', port: Number(process.env.E2E_REDIS_PORT || 6379) };

/**
 * Checks PostgreSQL (TCP + `psql select 1`) and Redis (PING). Resolves to
 * { ok, problems: string[] } where each problem names the service, address and reason.
 */
async function checkQueueServices({ pg = DEFAULT_PG, redis = DEFAULT_REDIS } = {}) {
  const problems = [];
  const pgErr = await tcpReachable(pg.host, pg.port);
  if (pgErr) problems.push(`PostgreSQL at ${pg.host}:${pg.port} is not reachable (${pgErr})`);
  else {
    try {
      await psql(pg, 'select 1');
    } catch (e) {
      problems.push(`PostgreSQL at ${pg.host}:${pg.port} refused a query as user ${pg.user} (${e.message.trim()}${e.message.includes('ENOENT') ? '; is the psql client installed?' : ''})`);
    }
  }
  const rErr = await tcpReachable(redis.host, redis.port);
  if (rErr) problems.push(`Redis at ${redis.host}:${redis.port} is not reachable (${rErr})`);
  else {
    try {
      const pong = await redisCommand(redis, 'PING');
      if (pong !== 'PONG') problems.push(`Redis at ${redis.host}:${redis.port} answered PING with ${pong}`);
    } catch (e) {
      problems.push(`Redis at ${redis.host}:${redis.port} did not answer PING (${e.message})`);
    }
  }
  return { ok: problems.length === 0, problems };
}

/**
 * Queue mode: a fresh PostgreSQL database, a unique Redis prefix, one main (`n8n start` with
 * EXECUTIONS_MODE=queue) and `workers` workers (`n8n worker`, each with its own user folder,
 * broker port and health port), all sharing N8N_ENCRYPTION_KEY. stop() stops the workers, then
 * the main, drops the database and deletes the Redis keys under the prefix.
 * Options: install, workers (2), env (for all), mainEnv, workerEnv, pg, redis, concurrency (5),
 * offloadManualExecutions (true: manual runs go to workers too), webhooks (0): webhook processes
 * (`n8n webhook`) started after the workers, each with its own user folder and port, stopped first.
 */
async function startQueueCluster(opts = {}) {
  const install = opts.install || (await require('./install').ensureN8n(e2eInstallOptions()));
  const pg = { ...DEFAULT_PG, ...(opts.pg || {}) };
  const redis = { ...DEFAULT_REDIS, ...(opts.redis || {}) };
  const check = await checkQueueServices({ pg, redis });
  if (!check.ok) {
    const err = new Error(`queue mode needs PostgreSQL and Redis: ${check.problems.join('; ')}`);
    err.problems = check.problems;
    throw err;
  }
  const id = `${Date.now().toString(36)}_${crypto.randomBytes(3).toString('hex')}`;
  const database = `n8n_e2e_${id}`;
  const prefix = `n8n_e2e_${id}`;
  const encryptionKey = crypto.randomBytes(24).toString('hex');
  await psql(pg, `CREATE DATABASE "${database}"`);
  const shared = {
    DB_TYPE: 'postgresdb',
    DB_POSTGRESDB_HOST: pg.host,
    DB_POSTGRESDB_PORT: String(pg.port),
    DB_POSTGRESDB_DATABASE: database,
    DB_POSTGRESDB_USER: pg.user,
    DB_POSTGRESDB_PASSWORD: pg.password || '',
    QUEUE_BULL_REDIS_HOST: redis.host,
    QUEUE_BULL_REDIS_PORT: String(redis.port),
    QUEUE_BULL_PREFIX: prefix,
    ...(opts.offloadManualExecutions === false ? {} : { OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS: 'true' }),
    ...(opts.env || {}),
  };
  const cluster = {
    install,
    database,
    prefix,
    encryptionKey,
    pg,
    redis,
    main: undefined,
    workers: [],
    webhooks: [],
    async stop() {
      const errors = [];
      for (const w of cluster.webhooks) await w.stop().catch((e) => errors.push(e));
      for (const w of cluster.workers) await w.stop().catch((e) => errors.push(e));
      if (cluster.main) await cluster.main.stop().catch((e) => errors.push(e));
      await psql(pg, `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch((e) => errors.push(e));
      await deleteRedisPrefix(redis, prefix).catch((e) => errors.push(e));
      if (process.env.E2E_KEEP_USER_FOLDERS !== '1') {
        for (const inst of [cluster.main, ...cluster.workers, ...cluster.webhooks]) if (inst) fs.rmSync(inst.userFolder, { recursive: true, force: true });
      }
      if (errors.length) throw new Error(`queue cluster stop: ${errors.map((e) => e.message).join('; ')}`);
    },
  };
  try {
    cluster.main = await startN8n({ install, mode: 'queue-main', name: 'queue-main', encryptionKey, env: { ...shared, ...(opts.mainEnv || {}) }, logLevel: opts.logLevel });
    for (let i = 1; i <= (opts.workers ?? 2); i++) {
      cluster.workers.push(
        await startN8n({
          install,
          mode: 'queue-worker',
          name: `queue-worker-${i}`,
          encryptionKey,
          env: { ...shared, ...(opts.workerEnv || {}) },
          args: [`--concurrency=${opts.concurrency ?? 5}`],
          logLevel: opts.logLevel,
        }),
      );
    }
    for (let i = 1; i <= (opts.webhooks ?? 0); i++) {
      cluster.webhooks.push(
        await startN8n({ install, mode: 'queue-webhook', name: `queue-webhook-${i}`, encryptionKey, env: { ...shared, ...(opts.webhookEnv || {}) }, logLevel: opts.logLevel }),
      );
    }
  } catch (e) {
    await cluster.stop().catch(() => {});
    throw e;
  }
  return cluster;
}

/**
 * A round-robin HTTP load balancer on 127.0.0.1 (port 0) in front of `targets` (base URLs), as
 * nginx's default upstream does: each request goes to the next target; a target that refuses the
 * connection or drops it before answering gets 502 (as nginx answers), never a retry elsewhere.
 * `routes` records where each request went (with its Kallglot-Webhook-Id) and its status.
 */
async function startRoundRobinProxy(targets) {
  const urls = targets.map((t) => new URL(t));
  const routes = [];
  let next = 0;
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    const index = next++ % urls.length;
    const target = urls[index];
    const route = { target: index, method: req.method, path: req.url, deliveryId: req.headers['kallglot-webhook-id'], status: 0, at: Date.now() };
    routes.push(route);
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: `${target.hostname}:${target.port}` }, agent: false },
      (answer) => {
        route.status = answer.statusCode;
        res.writeHead(answer.statusCode, answer.headers);
        answer.pipe(res);
        answer.on('aborted', () => res.destroy());
      },
    );
    upstream.on('error', () => {
      route.status = 502;
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end('{"message":"bad gateway"}');
      } else res.destroy();
    });
    req.pipe(upstream);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    routes,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

async function deleteRedisPrefix(redis, prefix) {
  let cursor = '0';
  do {
    const [next, keys] = await redisCommand(redis, 'SCAN', cursor, 'MATCH', `${prefix}:*`, 'COUNT', '1000');
    if (keys.length) await redisCommand(redis, 'DEL', ...keys);
    cursor = next;
  } while (cursor !== '0');
}

module.exports = {
  REPO_ROOT,
  PACKAGE_ROOT,
  PACKAGE_NAME,
  ARTIFACTS_DIR,
  LOG_DIR,
  DEFAULT_OWNER,
  N8nHttpError,
  N8nInstance,
  startN8n,
  startQueueCluster,
  startRoundRobinProxy,
  checkQueueServices,
  assertDistBuilt,
  linkPackage,
  freePort,
  e2eInstallOptions,
  redisCommand,
  psql,
};
