/**
 * Helpers for the e2e tests that drive our nodes in a real n8n against the Kallglot sandbox:
 * workflow builders, the trigger items of executions, a stand-in CRM, and polling.
 */
import { randomUUID } from 'crypto';
import { readFileSync } from 'fs';
import { createServer, type IncomingMessage, type Server } from 'http';
import type { AddressInfo } from 'net';
import { join } from 'path';

import type { N8nExecution, N8nInstance, WorkflowJson } from '../../../scripts/n8n/harness';
import { REPO_ROOT } from '../../../scripts/n8n/harness';
import type { KallglotSandbox } from '../../../sandbox';
import { CREDENTIAL_TYPE, NODE_TYPES } from './n8n';

export type CredentialRef = { id: string; name: string };

/** A Kallglot credential pointing at the sandbox. */
export async function sandboxCredential(n8n: N8nInstance, sandbox: KallglotSandbox, name = 'Kallglot sandbox'): Promise<CredentialRef> {
  const credential = await n8n.createCredential(CREDENTIAL_TYPE, { apiKey: sandbox.apiKey, baseUrl: sandbox.baseUrl }, { name });
  return { id: String(credential.id), name: credential.name };
}

/** Polls `check` until it returns something other than undefined/false. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A workflow with a single Kallglot Trigger (parameters merged over "create a session, default events"). */
export function triggerWorkflow(credential: CredentialRef, parameters: Record<string, unknown> = {}, name = 'e2e: Kallglot Trigger'): WorkflowJson {
  return {
    name,
    nodes: [
      {
        id: randomUUID(),
        name: 'Kallglot Trigger',
        type: NODE_TYPES.trigger,
        typeVersion: 1,
        position: [0, 0],
        parameters: { sessionSource: 'create', ...parameters },
        credentials: { [CREDENTIAL_TYPE]: credential },
      },
      {
        id: randomUUID(),
        name: 'No Operation',
        type: 'n8n-nodes-base.noOp',
        typeVersion: 1,
        position: [240, 0],
        parameters: {},
      },
    ],
    connections: { 'Kallglot Trigger': { main: [[{ node: 'No Operation', type: 'main', index: 0 }]] } },
    settings: { executionOrder: 'v1' },
  };
}

/** The first item the Kallglot Trigger emitted in an execution. */
export function triggerItem(execution: N8nExecution, node = 'Kallglot Trigger'): Record<string, any> {
  const run = execution.data?.resultData.runData[node]?.[0];
  const item = run?.data?.main[0]?.[0]?.json;
  if (!item) throw new Error(`execution ${execution.id}: no item from ${node} (${JSON.stringify(execution.data?.resultData.error ?? null)})`);
  return item;
}

/** Trigger items of a workflow's finished executions, oldest first. */
export async function triggerItems(n8n: N8nInstance, workflowId: string, count: number, timeoutMs = 60_000): Promise<Record<string, any>[]> {
  const executions = await n8n.waitForExecutions(workflowId, count, { timeoutMs });
  return executions
    .slice()
    .sort((a, b) => Number(a.id) - Number(b.id))
    .map((e) => triggerItem(e));
}

/** Session ids the sandbox knows that are not in `before`. */
export function newSessions(sandbox: KallglotSandbox, before: Set<string>): string[] {
  return [...sandbox.sessions.keys()].filter((id) => !before.has(id));
}

/** Waits for a session created after `before` with exactly one open stream; resolves to its id. */
export function waitForListenedSession(sandbox: KallglotSandbox, before: Set<string>, timeoutMs = 30_000): Promise<string> {
  return waitFor(
    'the trigger to create a session and open its stream',
    () => newSessions(sandbox, before).find((id) => sandbox.openStreamCount(id) === 1),
    timeoutMs,
  );
}

export interface CrmRecord {
  method: string;
  path: string;
  body: Record<string, any>;
}

/** A stand-in CRM on 127.0.0.1: records every request, answers 201 {ok:true}. */
export async function startCrm(): Promise<{ url: string; records: CrmRecord[]; close: () => Promise<void> }> {
  const records: CrmRecord[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let data = '';
    req.on('data', (chunk) => (data += chunk));
    req.on('end', () => {
      let body: Record<string, any> = {};
      try {
        body = JSON.parse(data || '{}');
      } catch {
        body = { raw: data };
      }
      records.push({ method: req.method ?? '', path: req.url ?? '/', body });
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  return {
    url,
    records,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** An example workflow of examples/ with its placeholders replaced. */
export function exampleWorkflow(file: string, replacements: Record<string, string>): WorkflowJson {
  let text = readFileSync(join(REPO_ROOT, 'examples', file), 'utf8');
  for (const [from, to] of Object.entries(replacements)) text = text.split(from).join(to);
  return JSON.parse(text);
}
