/**
 * E2E (real n8n, both versions): where failed items go under the node's "On Error" setting, and
 * what n8n's credential test says for Kallglot's key errors. Both are n8n's own behaviour
 * (its core routes items to the error output; its tester builds the message), so they are
 * checked in a real n8n, not only on n8n-core.
 */
import { randomUUID } from 'crypto';

import type { N8nInstance, WorkflowJson } from '../../scripts/n8n/harness';
import { CREDENTIAL_TEST_MESSAGES } from '../../credentials/KallglotApi.credentials';
import { KallglotSandbox } from '../../sandbox';
import { CREDENTIAL_TYPE, E2E_N8N_VERSION, NODE_TYPES, startSignedInN8n, timed } from './helpers/n8n';
import { sandboxCredential, type CredentialRef } from './helpers/kallglot';

const EXPIRED_KEY = 'sk_test_e2e_expired_0001';
const REVOKED_KEY = 'sk_test_e2e_revoked_0002';

const node = (name: string, type: string, position: number, parameters: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  id: randomUUID(),
  name,
  type,
  typeVersion: 1,
  position: [position * 220, 0] as [number, number],
  parameters,
  ...extra,
});

/** Manual → two numbers → Dial (with the given On Error) → "Dialled" (and "Failed" on the error output). */
function dialWorkflow(credential: CredentialRef, sessionId: string, onError: 'continueErrorOutput' | 'continueRegularOutput'): WorkflowJson {
  return {
    name: `e2e: dial with ${onError}`,
    nodes: [
      node('Manual', 'n8n-nodes-base.manualTrigger', 0, {}),
      {
        ...node('Numbers', 'n8n-nodes-base.set', 1, {
          mode: 'raw',
          jsonOutput: JSON.stringify({ calls: [{ to: '+14155550101', contact: 'A' }, { to: '+14155550102', contact: 'B' }] }),
          options: {},
        }),
        typeVersion: 3.4,
      },
      node('Split', 'n8n-nodes-base.splitOut', 2, { fieldToSplitOut: 'calls', options: {} }),
      node(
        'Dial',
        NODE_TYPES.action,
        3,
        { resource: 'session', operation: 'dial', sessionId, to: '={{ $json.to }}' },
        { onError, credentials: { [CREDENTIAL_TYPE]: credential } },
      ),
      node('Dialled', 'n8n-nodes-base.noOp', 4, {}),
      node('Failed', 'n8n-nodes-base.noOp', 4, {}),
    ],
    connections: {
      Manual: { main: [[{ node: 'Numbers', type: 'main', index: 0 }]] },
      Numbers: { main: [[{ node: 'Split', type: 'main', index: 0 }]] },
      Split: { main: [[{ node: 'Dial', type: 'main', index: 0 }]] },
      Dial: {
        main:
          onError === 'continueErrorOutput'
            ? [[{ node: 'Dialled', type: 'main', index: 0 }], [{ node: 'Failed', type: 'main', index: 0 }]]
            : [[{ node: 'Dialled', type: 'main', index: 0 }]],
      },
    },
    settings: { executionOrder: 'v1' },
  };
}

describe(`errors in real n8n ${E2E_N8N_VERSION}`, () => {
  let n8n: N8nInstance;
  let sandbox: KallglotSandbox;
  let credential: CredentialRef;

  beforeAll(async () => {
    sandbox = await KallglotSandbox.start({ keyProfiles: { [EXPIRED_KEY]: { state: 'expired' }, [REVOKED_KEY]: { state: 'revoked' } } });
    n8n = await timed('start n8n', () => startSignedInN8n({ name: 'errors' }));
    credential = await sandboxCredential(n8n, sandbox);
  });

  afterAll(async () => {
    await n8n?.dispose();
    await sandbox?.close();
  });

  /** A fresh session, and a 502 for its first dial (the SIP dial failed). */
  async function sessionWhoseFirstDialFails(): Promise<string> {
    const res = await fetch(`${sandbox.baseUrl}/sessions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${sandbox.apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ mode: 'ai_agent', ai_agent: { agent_id: sandbox.agents[0].id } }),
    });
    const { id } = (await res.json()) as { id: string };
    sandbox.injectFault({ path: `/v1/sessions/${id}/dial`, status: 502, code: 'sip_dial_failed' });
    return id;
  }

  test('"Continue (using error output)": the failed dial goes down the error branch with its input fields; the other down the success branch', async () => {
    const sessionId = await sessionWhoseFirstDialFails();
    const wf = await n8n.importWorkflow(dialWorkflow(credential, sessionId, 'continueErrorOutput'));
    const execution = await timed('run (error output)', () => n8n.runWorkflow(wf.id));
    expect(execution.status).toBe('success');
    const runData = execution.data!.resultData.runData;
    const [success, failed] = runData.Dial[0].data!.main;
    expect(success?.map((i) => i.json.id)).toEqual([sessionId]); // the dialled session, for contact B
    expect(failed).toHaveLength(1);
    expect(failed![0].json).toEqual({
      to: '+14155550101',
      contact: 'A',
      message: expect.stringMatching(/^Kallglot 502 sip_dial_failed/),
      error: expect.objectContaining({ message: expect.stringMatching(/^Kallglot 502/), description: expect.stringMatching(/could not be placed/), httpCode: '502' }),
    });
    expect(runData.Failed[0].data!.main[0]!.map((i) => i.json.contact)).toEqual(['A']);
    expect(runData.Dialled[0].data!.main[0]!.map((i) => i.json.id)).toEqual([sessionId]);
  });

  test('"Continue (using regular output)": {error, description} and the session stay on the one output, in input order', async () => {
    const sessionId = await sessionWhoseFirstDialFails();
    const wf = await n8n.importWorkflow(dialWorkflow(credential, sessionId, 'continueRegularOutput'));
    const execution = await timed('run (regular output)', () => n8n.runWorkflow(wf.id));
    expect(execution.status).toBe('success');
    const items = execution.data!.resultData.runData.Dial[0].data!.main[0]!;
    expect(items).toHaveLength(2);
    expect(items[0].json).toEqual({ error: expect.stringMatching(/^Kallglot 502 sip_dial_failed/), description: expect.stringMatching(/could not be placed/) });
    expect(items[1].json.id).toBe(sessionId);
    expect(execution.data!.resultData.runData.Dialled[0].data!.main[0]).toHaveLength(2);
  });

  describe('the credential test names Kallglot\'s code and what to do', () => {
    test.each([
      ['a wrong key', 'sk_test_e2e_wrong_0000', 'invalid_api_key'],
      ['an expired key', EXPIRED_KEY, 'expired_api_key'],
      ['a revoked key', REVOKED_KEY, 'revoked_api_key'],
    ])('%s', async (_name, apiKey, code) => {
      const cred = await n8n.createCredential(CREDENTIAL_TYPE, { apiKey, baseUrl: sandbox.baseUrl });
      const result = await n8n.testCredential(cred.id);
      expect(result).toEqual({ status: 'Error', message: CREDENTIAL_TEST_MESSAGES[code] });
      expect(result.message).not.toContain(apiKey);
    });

    test('the right key passes; a server that is not Kallglot fails', async () => {
      const right = await n8n.createCredential(CREDENTIAL_TYPE, { apiKey: sandbox.apiKey, baseUrl: sandbox.baseUrl });
      expect((await n8n.testCredential(right.id)).status).toBe('OK');
      const elsewhere = await n8n.createCredential(CREDENTIAL_TYPE, { apiKey: sandbox.apiKey, baseUrl: `${sandbox.baseUrl}/nowhere` });
      expect(await n8n.testCredential(elsewhere.id)).toEqual({ status: 'Error', message: expect.stringMatching(/did not answer with a list of agents/) });
    });
  });
});
