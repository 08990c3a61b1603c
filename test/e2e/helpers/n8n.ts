/**
 * Shared helpers for the e2e suite: which n8n is under test, starting it signed in with a
 * public-API key, and the skip-outside-CI rule for optional infrastructure.
 */
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { e2eInstallOptions, PACKAGE_ROOT, REPO_ROOT, startN8n, type N8nInstance, type StartN8nOptions } from '../../../scripts/n8n/harness';
import { cacheRoot, ensureN8n, type N8nInstall } from '../../../scripts/n8n/install';

/** n8n version under test: E2E_N8N_VERSION, default 2.8.4 (2.41.1 runs on Node 24 from the cache). */
export const E2E_N8N_VERSION = e2eInstallOptions().version;

export const inCI = process.env.CI === 'true';

export const PACKAGE_JSON = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
  name: string;
  n8n: { nodes: string[]; credentials: string[] };
};

export const NODE_TYPES = {
  action: 'n8n-nodes-kallglot.kallglot',
  trigger: 'n8n-nodes-kallglot.kallglotTrigger',
  webhookTrigger: 'n8n-nodes-kallglot.kallglotWebhookTrigger',
} as const;
export const CREDENTIAL_TYPE = 'kallglotApi';

export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'test-artifacts', 'screenshots');

let installPromise: Promise<N8nInstall> | undefined;
/** The install for E2E_N8N_VERSION (global-setup installed it; this is instant then). */
export function getInstall(): Promise<N8nInstall> {
  installPromise ??= ensureN8n(e2eInstallOptions());
  return installPromise;
}

/** Starts n8n with the package linked, sets the owner up and creates a public-API key. */
export async function startSignedInN8n(opts: StartN8nOptions = {}): Promise<N8nInstance> {
  const n8n = await startN8n({ install: await getInstall(), ...opts });
  try {
    await n8n.ensureOwner();
    await n8n.createApiKey();
  } catch (e) {
    await n8n.stop();
    throw e;
  }
  return n8n;
}

/**
 * For optional infrastructure (PostgreSQL/Redis, Chromium): returns a reason to skip outside CI;
 * throws in CI (CI=true), where a missing service is a failure.
 */
export function skipUnlessCI(problem: string): string {
  if (inCI) throw new Error(`${problem} (CI=true: this is a failure, not a skip)`);
  console.warn(`[e2e] SKIPPED: ${problem}`);
  return problem;
}

/** Time a step and print it, so the run's log shows where the minutes go. */
export async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await fn();
  } finally {
    console.log(`[e2e ${E2E_N8N_VERSION}] ${label}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}

/**
 * Lines of the n8n log that say our package or its types failed to load: unknown node or
 * credential types, and errors/warnings naming the package. Folder names that merely contain
 * "n8n-nodes-kallglot" (the n8n cache, the temp user folders) do not count.
 */
export function packageProblemsInLog(log: string): string[] {
  const noise = [cacheRoot(), path.join(os.tmpdir(), 'n8n-nodes-kallglot-e2e')];
  return log.split('\n').filter((line) => {
    let l = line;
    for (const p of noise) l = l.split(p).join('<path>');
    return (
      /Unrecognized (node|credential) type/i.test(l) ||
      (/\|\s*(error|warn)\s*\|/.test(l) && /kallglot/i.test(l)) ||
      /Cannot find module .*kallglot/i.test(l)
    );
  });
}

/** A workflow holding our two nodes (no credentials needed to display or save it). */
export function workflowWithOurNodes(name = 'Kallglot nodes (e2e)') {
  return {
    name,
    nodes: [
      {
        id: 'b3c1c2f0-0000-4000-8000-000000000001',
        name: 'Kallglot Trigger',
        type: NODE_TYPES.trigger,
        typeVersion: 1,
        position: [0, 0] as [number, number],
        parameters: {},
      },
      {
        id: 'b3c1c2f0-0000-4000-8000-000000000002',
        name: 'Kallglot',
        type: NODE_TYPES.action,
        typeVersion: 1,
        position: [320, 0] as [number, number],
        parameters: {},
      },
    ],
    connections: { 'Kallglot Trigger': { main: [[{ node: 'Kallglot', type: 'main', index: 0 }]] } },
    settings: { executionOrder: 'v1' },
  };
}

/** Highest version of a node type description's `version`. */
export const latest = (v: number | number[]): number => (Array.isArray(v) ? Math.max(...v) : v);

/** The registered description of `name`, or a clear failure naming which of ours are registered. */
export function registered<T extends { name: string }>(list: T[], name: string, what = 'node type'): T {
  const found = list.find((n) => n.name === name);
  if (!found) {
    const ours = list.map((n) => n.name).filter((n) => /kallglot/i.test(n));
    throw new Error(`${what} ${name} is not registered in n8n ${E2E_N8N_VERSION} (ours that are: ${ours.join(', ') || 'none'})`);
  }
  return found;
}

/** n8n's Manual Trigger, named "Manual", for workflows the tests run through REST. */
export function manualTriggerNode() {
  return { id: randomUUID(), name: 'Manual', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0] as [number, number], parameters: {} };
}

/** n8n's Edit Fields (Set) node (3.4) setting each of `fields` as a string; values may be expressions. */
export function setNode(name: string, position: [number, number], fields: Record<string, string>) {
  return {
    id: randomUUID(),
    name,
    type: 'n8n-nodes-base.set',
    typeVersion: 3.4,
    position,
    parameters: {
      assignments: { assignments: Object.entries(fields).map(([field, value]) => ({ id: randomUUID(), name: field, value, type: 'string' })) },
      options: {},
    },
  };
}

/** A Webhook trigger node at `path` (n8n 2.x shape), for workflows the tests start over HTTP. */
export function webhookNode(path: string, httpMethod: 'GET' | 'POST', responseMode: 'onReceived' | 'lastNode') {
  return {
    id: randomUUID(),
    name: 'Webhook',
    type: 'n8n-nodes-base.webhook',
    typeVersion: 2,
    position: [0, 0] as [number, number],
    webhookId: randomUUID(),
    parameters: { httpMethod, path, responseMode, options: {} },
  };
}
