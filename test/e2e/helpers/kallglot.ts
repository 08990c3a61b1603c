/**
 * Helpers for the e2e tests that drive our nodes in a real n8n against the Kallglot sandbox:
 * workflow builders, the trigger items of executions, a stand-in CRM, and polling.
 */
import { createHmac, randomUUID } from 'crypto';
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

/** One of our nodes (`type`: a NODE_TYPES value) with the Kallglot API credential `credential`. */
export function kallglotNode(type: string, name: string, position: [number, number], credential: CredentialRef, parameters: Record<string, unknown>) {
  return { id: randomUUID(), name, type, typeVersion: 1, position, parameters, credentials: { [CREDENTIAL_TYPE]: credential } };
}

/** A workflow with a single Kallglot Trigger (parameters merged over "create a session, default events"). */
export function triggerWorkflow(credential: CredentialRef, parameters: Record<string, unknown> = {}, name = 'e2e: Kallglot Trigger'): WorkflowJson {
  return {
    name,
    nodes: [
      kallglotNode(NODE_TYPES.trigger, 'Kallglot Trigger', [0, 0], credential, { sessionSource: 'create', ...parameters }),
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

// ---------------------------------------------------------------------------------------------
// Kallglot Webhook Trigger

export const WEBHOOK_CREDENTIAL_TYPE = 'kallglotWebhookApi';
export const WEBHOOK_TRIGGER_NAME = 'Kallglot Webhook Trigger';

/** A Kallglot Webhook Trigger → No Operation workflow; `url` is its production URL on `n8n`. */
export function webhookTriggerWorkflow(
  credentials: { webhook: CredentialRef; api: CredentialRef },
  parameters: Record<string, unknown>,
  next: WorkflowJson['nodes'] = [],
  name = 'e2e: Kallglot Webhook Trigger',
): { workflow: WorkflowJson; path: string } {
  const webhookId = randomUUID();
  const after: WorkflowJson['nodes'] = next.length ? next : [{ id: randomUUID(), name: 'No Operation', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [240, 0], parameters: {} }];
  return {
    path: `${webhookId}/webhook`,
    workflow: {
      name,
      nodes: [
        {
          id: randomUUID(),
          name: WEBHOOK_TRIGGER_NAME,
          type: NODE_TYPES.webhookTrigger,
          typeVersion: 1,
          position: [0, 0],
          webhookId,
          parameters,
          credentials: { [WEBHOOK_CREDENTIAL_TYPE]: credentials.webhook, [CREDENTIAL_TYPE]: credentials.api },
        },
        ...after,
      ],
      connections: { [WEBHOOK_TRIGGER_NAME]: { main: [[{ node: after[0].name, type: 'main', index: 0 }]] } },
      settings: { executionOrder: 'v1' },
    },
  };
}

/** A webhook envelope as compact JSON. */
export const webhookEnvelope = (type: string, data: Record<string, unknown>, id = `evt_${randomUUID().replace(/-/g, '')}`) =>
  JSON.stringify({ id, object: 'webhook_event', type, api_version: 'v1', created_at: new Date().toISOString(), data });

/** POSTs `body` signed with `secret` at `t` (as Kallglot does), or with the headers given. */
export async function postSigned(url: string, body: string, secret: string, headers: Record<string, string> = {}, t = Math.floor(Date.now() / 1000)) {
  const v1 = createHmac('sha256', secret).update(`${t}.`).update(Buffer.from(body)).digest('hex');
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'kallglot-signature': `t=${t},v1=${v1}`, 'kallglot-retry-count': '0', ...headers },
    body,
  });
  const text = await res.text();
  let json: Record<string, any> = {};
  try {
    json = JSON.parse(text);
  } catch {
    json = { raw: text };
  }
  return { status: res.status, body: json };
}

/** The Kallglot Webhook Trigger's first item (json + binary metadata) of an execution. */
export function webhookTriggerItem(execution: N8nExecution): { json: Record<string, any>; binary?: Record<string, any> } {
  const item = execution.data?.resultData.runData[WEBHOOK_TRIGGER_NAME]?.[0]?.data?.main[0]?.[0] as { json: Record<string, any>; binary?: Record<string, any> } | undefined;
  if (!item) throw new Error(`execution ${execution.id}: no item from ${WEBHOOK_TRIGGER_NAME}`);
  return item;
}
