/**
 * E2E (real n8n, both versions): stopping a running campaign stops dialing. A manual workflow
 * creates a session and dials for each of 30 contacts against the sandbox limited to 5 requests
 * per 3 s (about 36 s of work); after two windows it is stopped through n8n's REST API
 * (what the editor's Stop button calls). Nothing reaches the sandbox after the stop, and n8n logs
 * how many items the node had done.
 */
import { randomUUID } from 'crypto';

import type { N8nInstance, WorkflowJson } from '../../scripts/n8n/harness';
import { KallglotSandbox } from '../../sandbox';
import { E2E_N8N_VERSION, NODE_TYPES, manualTriggerNode, startSignedInN8n, timed } from './helpers/n8n';
import { kallglotNode, sandboxCredential, waitFor, type CredentialRef } from './helpers/kallglot';

const CONTACTS = 30;
/** 5 requests per 3 s: a burst of 5, then ~3 s of waiting, in which the test stops the run. */
const WINDOW_MS = 3000;

function campaignWorkflow(credential: CredentialRef): WorkflowJson {
  const contacts = Array.from({ length: CONTACTS }, (_, i) => ({ contact: `e2e-${i}`, to: `+1415555${String(i).padStart(4, '0')}` }));
  return {
    name: 'e2e: campaign to stop',
    nodes: [
      manualTriggerNode(),
      {
        id: randomUUID(),
        name: 'Contacts',
        type: 'n8n-nodes-base.set',
        typeVersion: 3.4,
        position: [220, 0],
        parameters: { mode: 'raw', jsonOutput: JSON.stringify({ contacts }), options: {} },
      },
      { id: randomUUID(), name: 'Split', type: 'n8n-nodes-base.splitOut', typeVersion: 1, position: [440, 0], parameters: { fieldToSplitOut: 'contacts', options: {} } },
      kallglotNode(NODE_TYPES.action, 'Create Session', [660, 0], credential, {
        resource: 'session',
        operation: 'create',
        mode: 'bidirectional_translation',
        metadata: { entry: [{ key: 'contact', value: '={{ $json.contact }}' }] },
      }),
      kallglotNode(NODE_TYPES.action, 'Dial', [880, 0], credential, {
        resource: 'session',
        operation: 'dial',
        sessionId: '={{ $json.id }}',
        to: "={{ $('Split').item.json.to }}",
      }),
    ],
    connections: {
      [manualTriggerNode().name]: { main: [[{ node: 'Contacts', type: 'main', index: 0 }]] },
      Contacts: { main: [[{ node: 'Split', type: 'main', index: 0 }]] },
      Split: { main: [[{ node: 'Create Session', type: 'main', index: 0 }]] },
      'Create Session': { main: [[{ node: 'Dial', type: 'main', index: 0 }]] },
    },
    settings: { executionOrder: 'v1' },
  };
}

describe(`stopping a campaign in real n8n ${E2E_N8N_VERSION}`, () => {
  let n8n: N8nInstance;
  let sandbox: KallglotSandbox;

  beforeAll(async () => {
    sandbox = await KallglotSandbox.start({ rateLimit: { limit: 5, windowMs: WINDOW_MS } });
    n8n = await timed('start n8n', () => startSignedInN8n({ name: 'campaign' }));
  });

  afterAll(async () => {
    await n8n?.dispose();
    await sandbox?.close();
  });

  test('Stop: no Create Session or Dial reaches Kallglot after it; n8n logs how many items were done', async () => {
    const credential = await sandboxCredential(n8n, sandbox);
    const wf = await n8n.importWorkflow(campaignWorkflow(credential));
    const billable = () => sandbox.requests.filter((r) => r.method === 'POST' && (r.path === '/v1/sessions' || r.path.endsWith('/dial')));
    const { executionId } = await n8n.runWorkflow(wf.id, { wait: false });
    // Two windows spent: the node waits for the next one, with no request in flight.
    await waitFor('two windows spent', () => billable().length >= 10 && billable().length % 5 === 0);
    await n8n.rest('POST', `/executions/${executionId}/stop`, {});
    const stoppedAt = Date.now();
    const sentByThen = billable().length;
    const execution = await n8n.waitForExecution(executionId);
    expect(execution.status).toBe('canceled');
    // Were the node still dialing, the next window would bring 5 more requests.
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS + 500));
    expect(sandbox.requests.filter((r) => r.at > stoppedAt)).toEqual([]);
    expect(billable().length).toBe(sentByThen);
    expect(billable().length).toBeLessThan(CONTACTS);
    const said = await waitFor('the node to log its stop', () => /Kallglot: Stopped after (\d+) of 30 items/.exec(n8n.readLog()) ?? undefined);
    // The items done are the sessions Kallglot created, less one whose answer n8n cut at the stop.
    expect(sandbox.sessions.size - Number(said[1])).toBeLessThanOrEqual(1);
  });
});
