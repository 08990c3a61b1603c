/**
 * E2E (real n8n): the community package loads, its types are registered, its icons resolve, and
 * the kallglotApi credential test works against the Kallglot sandbox through n8n's own API. The
 * packed tarball, installed into an empty folder, loads the same way on its own.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { REPO_ROOT, type N8nInstance } from '../../scripts/n8n/harness';
import { KallglotSandbox } from '../../sandbox';
import {
  CREDENTIAL_TYPE,
  E2E_N8N_VERSION,
  NODE_TYPES,
  PACKAGE_JSON,
  latest,
  packageProblemsInLog,
  registered,
  startSignedInN8n,
  timed,
  workflowWithOurNodes,
} from './helpers/n8n';

type IconUrl = string | { light: string; dark: string } | undefined;
const iconUrls = (u: IconUrl): string[] => (u === undefined ? [] : typeof u === 'string' ? [u] : [u.light, u.dark]);

describe(`n8n ${E2E_N8N_VERSION} with n8n-nodes-kallglot`, () => {
  let n8n: N8nInstance;

  beforeAll(async () => {
    n8n = await timed('start n8n + owner + API key', () => startSignedInN8n({ name: 'package' }));
  });

  afterAll(async () => {
    await n8n?.dispose();
  });

  describe('the package loads', () => {
    test('node types kallglot and kallglotTrigger and credential type kallglotApi are registered', async () => {
      const nodes = await n8n.getNodeTypes();
      const ours = nodes.map((n) => n.name).filter((n) => n.startsWith('n8n-nodes-kallglot.'));
      expect(ours).toEqual(expect.arrayContaining([NODE_TYPES.action, NODE_TYPES.trigger, NODE_TYPES.webhookTrigger]));

      const creds = await n8n.getCredentialTypes();
      expect(creds.map((c) => c.name)).toEqual(expect.arrayContaining([CREDENTIAL_TYPE, 'kallglotWebhookApi']));
      expect((registered(nodes, NODE_TYPES.webhookTrigger).credentials ?? []).map((c) => c.name)).toContain('kallglotWebhookApi');

      // Every node asks for our API credential.
      for (const type of [NODE_TYPES.action, NODE_TYPES.trigger, NODE_TYPES.webhookTrigger]) {
        const desc = registered(nodes, type);
        expect((desc.credentials ?? []).map((c) => c.name)).toContain(CREDENTIAL_TYPE);
      }

      // n8n's loader says it read everything package.json lists (debug log level, the harness default).
      const log = n8n.readLog();
      const loaded = log.match(/Loaded all credentials and nodes from n8n-nodes-kallglot \{"credentials":(\d+),"nodes":(\d+)/);
      if (loaded) {
        expect(Number(loaded[1])).toBe(PACKAGE_JSON.n8n.credentials.length);
        expect(Number(loaded[2])).toBe(PACKAGE_JSON.n8n.nodes.length);
      }
      expect(packageProblemsInLog(log)).toEqual([]);
    });

    test('the editor gets full descriptions for both nodes (POST /rest/node-types)', async () => {
      const nodes = await n8n.getNodeTypes();
      const nodeInfos = [NODE_TYPES.action, NODE_TYPES.trigger].map((name) => ({
        name,
        version: latest(registered(nodes, name).version),
      }));
      const descriptions = await n8n.rest<Array<{ name: string; properties: unknown[] }>>('POST', '/node-types', { nodeInfos });
      // 2.8.4 answers full names (n8n-nodes-kallglot.kallglot); 2.41.1 drops the package prefix.
      const short = (n: string) => n.replace(/^n8n-nodes-kallglot\./, '');
      expect(descriptions.map((d) => short(d.name)).sort()).toEqual(nodeInfos.map((i) => short(i.name)).sort());
      for (const d of descriptions) expect(Array.isArray(d.properties)).toBe(true);
    });

    test('icons of both nodes and the credential resolve over HTTP as SVG', async () => {
      const nodes = await n8n.getNodeTypes();
      const creds = await n8n.getCredentialTypes();
      const urls = [
        ...[NODE_TYPES.action, NODE_TYPES.trigger, NODE_TYPES.webhookTrigger].flatMap((t) => iconUrls(registered(nodes, t).iconUrl)),
        ...[CREDENTIAL_TYPE, 'kallglotWebhookApi'].flatMap((c) => iconUrls(registered(creds, c, 'credential type').iconUrl)),
      ];
      expect(urls.length).toBeGreaterThanOrEqual(3); // at least one per type (ours are themed: light + dark)
      for (const url of urls) {
        // n8n's scheme for community packages: icons/<package>/<path inside the package>
        expect(url).toMatch(/^icons\/n8n-nodes-kallglot\/dist\/.+\.svg$/);
        // The editor loads icons without credentials (plain <img>): no cookie here.
        const res = await fetch(`${n8n.baseUrl}/${url}`);
        const body = await res.text();
        expect({ url, status: res.status, type: res.headers.get('content-type') }).toEqual({
          url,
          status: 200,
          type: expect.stringMatching(/^image\/svg\+xml/),
        });
        expect(body).toContain('<svg');
      }
    });

    test('a workflow holding both nodes is accepted and read back without unknown types', async () => {
      const nodes = await n8n.getNodeTypes();
      const wf = workflowWithOurNodes();
      for (const node of wf.nodes) node.typeVersion = latest(registered(nodes, node.type).version);
      const created = await n8n.importWorkflow(wf);
      const back = await n8n.getWorkflow(created.id);
      expect(back.nodes.map((n: { type: string }) => n.type).sort()).toEqual([NODE_TYPES.action, NODE_TYPES.trigger].sort());
      expect(packageProblemsInLog(n8n.readLog())).toEqual([]);
    });
  });

  describe('credential kallglotApi (created through the public API) against the sandbox', () => {
    let sandbox: KallglotSandbox;

    beforeAll(async () => {
      sandbox = await KallglotSandbox.start();
    });

    afterAll(async () => {
      await sandbox?.close();
    });

    test('the right key passes the credential test', async () => {
      const cred = await n8n.createCredential(CREDENTIAL_TYPE, { apiKey: sandbox.apiKey, baseUrl: sandbox.baseUrl });
      const before = sandbox.requests.length;
      const result = await timed('credential test (right key)', () => n8n.testCredential(cred.id));
      expect(result).toEqual({ status: 'OK', message: expect.any(String) });

      const calls = sandbox.requests.slice(before);
      expect(calls.length).toBeGreaterThanOrEqual(1);
      expect(calls[0].method).toBe('GET');
      expect(calls[0].path).toMatch(/\/v1\/agents$/);
      expect(calls[0].headers.authorization).toBe(`Bearer ${sandbox.apiKey}`);
    });

    test('a wrong key fails the credential test', async () => {
      const cred = await n8n.createCredential(CREDENTIAL_TYPE, { apiKey: 'sk_test_wrong_key_e2e', baseUrl: sandbox.baseUrl });
      const before = sandbox.requests.length;
      const result = await n8n.testCredential(cred.id);
      expect(result.status).toBe('Error');
      expect(result.message).toEqual(expect.any(String));
      expect(sandbox.requests.slice(before).some((r) => r.status === 401)).toBe(true);
    });
  });
});

describe(`n8n ${E2E_N8N_VERSION} with n8n-nodes-kallglot installed from its packed tarball`, () => {
  const run = promisify(execFile);
  const npmEnv = { ...process.env, npm_config_yes: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_loglevel: 'silent' };
  let work: string;
  let n8n: N8nInstance;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'kallglot-e2e-tarball-'));
    const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: REPO_ROOT, env: npmEnv });
    const [packed] = JSON.parse(stdout) as Array<{ filename: string }>;
    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'n8n-nodes-folder', private: true }));
    await run('npm', ['install', '--prefer-offline', '--legacy-peer-deps', '--no-package-lock', join(work, packed.filename)], { cwd: app, env: npmEnv });
    // n8n-workflow is a peer the host provides; the repository's copy, as when the repository is linked.
    symlinkSync(join(REPO_ROOT, 'node_modules/n8n-workflow'), join(app, 'node_modules/n8n-workflow'), 'dir');
    n8n = await timed('start n8n with the installed tarball', () =>
      startSignedInN8n({ name: 'package-tarball', packageRoot: join(app, 'node_modules', 'n8n-nodes-kallglot') }),
    );
  });

  afterAll(async () => {
    await n8n?.dispose();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  test('every node and credential is registered, with no load problem and icons served as SVG', async () => {
    const nodes = await n8n.getNodeTypes();
    expect(nodes.map((n) => n.name)).toEqual(expect.arrayContaining([NODE_TYPES.action, NODE_TYPES.trigger, NODE_TYPES.webhookTrigger]));
    const creds = await n8n.getCredentialTypes();
    expect(creds.map((c) => c.name)).toEqual(expect.arrayContaining([CREDENTIAL_TYPE, 'kallglotWebhookApi']));
    expect(packageProblemsInLog(n8n.readLog())).toEqual([]);

    const urls = [NODE_TYPES.action, NODE_TYPES.trigger, NODE_TYPES.webhookTrigger].flatMap((t) => iconUrls(registered(nodes, t).iconUrl));
    expect(urls.length).toBeGreaterThanOrEqual(3);
    for (const url of urls) {
      const res = await fetch(`${n8n.baseUrl}/${url}`);
      expect({ url, status: res.status, type: res.headers.get('content-type') }).toEqual({
        url,
        status: 200,
        type: expect.stringMatching(/^image\/svg\+xml/),
      });
    }
  });
});
