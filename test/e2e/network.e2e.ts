/**
 * E2E (real n8n): the message n8n records for a connection failure is the package's own, not n8n's
 * generic sentence ("The service refused the connection - perhaps it is offline"), which its error
 * classes would put in its place; and a Kallglot key is refused for a plain-http non-loopback URL.
 */
import { randomUUID } from 'crypto';
import { createServer, type AddressInfo } from 'net';

import type { N8nInstance, WorkflowJson } from '../../scripts/n8n/harness';
import { CREDENTIAL_TYPE, E2E_N8N_VERSION, NODE_TYPES, startSignedInN8n, timed } from './helpers/n8n';

const node = (name: string, type: string, position: number, parameters: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  id: randomUUID(),
  name,
  type,
  typeVersion: 1,
  position: [position * 220, 0] as [number, number],
  parameters,
  ...extra,
});

function getSessionWorkflow(credential: { id: string; name: string }): WorkflowJson {
  return {
    name: 'e2e: network error message',
    nodes: [
      node('Manual', 'n8n-nodes-base.manualTrigger', 0, {}),
      node('Get', NODE_TYPES.action, 1, { resource: 'session', operation: 'get', sessionId: 'sess_E2E' }, { credentials: { [CREDENTIAL_TYPE]: credential } }),
    ],
    connections: { Manual: { main: [[{ node: 'Get', type: 'main', index: 0 }]] } },
    settings: { executionOrder: 'v1' },
  };
}

describe(`network errors in real n8n ${E2E_N8N_VERSION}`, () => {
  let n8n: N8nInstance;
  let closedPort: number;

  beforeAll(async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    closedPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    n8n = await timed('start n8n', () => startSignedInN8n({ name: 'network' }));
  });

  afterAll(async () => {
    await n8n?.dispose();
  });

  test('a refused connection: the execution error is our message, with the fix in its description', async () => {
    const credential = await n8n.createCredential(CREDENTIAL_TYPE, { apiKey: 'sk_sandbox_e2e_0001', baseUrl: `http://127.0.0.1:${closedPort}/v1` });
    const wf = await n8n.importWorkflow(getSessionWorkflow(credential));
    const execution = await timed('run (refused)', () => n8n.runWorkflow(wf.id));
    expect(execution.status).toBe('error');
    const error = execution.data!.resultData.runData.Get[0].error as { message: string; description: string };
    expect(error.message).toBe(`Could not reach Kallglot: 127.0.0.1:${closedPort} refused the connection (ECONNREFUSED)`);
    expect(error.description).toMatch(/host\.docker\.internal/);
    expect(error.description).not.toMatch(/Idempotency/);
  });

  test('a Kallglot key with a plain-http non-loopback URL: refused, the key in no error', async () => {
    const apiKey = 'sk_live_e2e_never_sent_0002';
    const credential = await n8n.createCredential(CREDENTIAL_TYPE, { apiKey, baseUrl: 'http://host.docker.internal:4010/v1' });
    const wf = await n8n.importWorkflow(getSessionWorkflow(credential));
    const execution = await timed('run (insecure)', () => n8n.runWorkflow(wf.id));
    expect(execution.status).toBe('error');
    const error = execution.data!.resultData.runData.Get[0].error as { message: string };
    expect(error.message).toMatch(/is not allowed with this API key: the key would travel unencrypted/);
    expect(JSON.stringify(execution.data)).not.toContain(apiKey);
  });
});
