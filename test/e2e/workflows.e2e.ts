/**
 * E2E: our nodes in workflows of a real n8n against the Kallglot sandbox.
 * - Kallglot "Session → Create" run manually through REST: the exact wire body, the
 *   Idempotency-Key from an expression, and idempotent re-runs.
 * - Kallglot Trigger published: one execution per final transcript + one for session.ended, in
 *   order with their translations; unpublishing closes the stream and ends the created session.
 */
import type { N8nInstance } from '../../scripts/n8n/harness';
import { BILINGUAL_CALL, KallglotSandbox, SANDBOX_AGENT_ID } from '../../sandbox';
import { E2E_N8N_VERSION, manualTriggerNode, NODE_TYPES, setNode, startSignedInN8n, timed } from './helpers/n8n';
import { kallglotNode, sandboxCredential, triggerItems, triggerWorkflow, waitFor, waitForListenedSession, type CredentialRef } from './helpers/kallglot';

describe(`Kallglot workflows on n8n ${E2E_N8N_VERSION}`, () => {
  let n8n: N8nInstance;
  let sandbox: KallglotSandbox;
  let credential: CredentialRef;

  beforeAll(async () => {
    sandbox = await KallglotSandbox.start();
    n8n = await timed('start n8n', () => startSignedInN8n({ name: 'workflows' }));
    credential = await sandboxCredential(n8n, sandbox);
  });

  afterAll(async () => {
    await n8n?.dispose();
    await sandbox?.close();
  });

  test('Session → Create sends the exact body and an idempotency key from an expression; a re-run returns the same session', async () => {
    const wf = await n8n.importWorkflow({
      name: 'e2e: create session',
      nodes: [
        manualTriggerNode(),
        setNode('CRM Contact', [220, 0], { crmId: 'C-4242', campaign: 'spring-recall' }),
        kallglotNode(NODE_TYPES.action, 'Create Session', [440, 0], credential, {
          resource: 'session',
          operation: 'create',
          mode: 'ai_agent',
          agent: { __rl: true, mode: 'list', value: SANDBOX_AGENT_ID },
          routing: 'phoneNumber',
          phoneNumber: '+14155551234',
          direction: 'outbound',
          metadata: {
            entry: [
              { key: 'crm_id', value: '={{ $json.crmId }}' },
              { key: 'campaign', value: '={{ $json.campaign }}' },
            ],
          },
          additionalOptions: { idempotencyKey: "={{ 'e2e-' + $json.crmId }}" },
        }),
      ],
      connections: {
        Manual: { main: [[{ node: 'CRM Contact', type: 'main', index: 0 }]] },
        'CRM Contact': { main: [[{ node: 'Create Session', type: 'main', index: 0 }]] },
      },
      settings: { executionOrder: 'v1' },
    });

    const before = sandbox.requests.length;
    const first = await timed('manual run (create)', () => n8n.runWorkflow(wf.id));
    expect(first.status).toBe('success');
    const posts = sandbox.requests.slice(before).filter((r) => r.method === 'POST' && r.path === '/v1/sessions');
    expect(posts).toHaveLength(1);
    expect(posts[0].body).toEqual({
      mode: 'ai_agent',
      routing: { phone_number: '+14155551234', direction: 'outbound' },
      ai_agent: { agent_id: SANDBOX_AGENT_ID },
      metadata: { crm_id: 'C-4242', campaign: 'spring-recall' },
    });
    expect(posts[0].headers['idempotency-key']).toBe('e2e-C-4242');
    expect(posts[0].headers.authorization).toBe(`Bearer ${sandbox.apiKey}`);
    expect(posts[0].status).toBe(201);

    const created = first.data!.resultData.runData['Create Session'][0].data!.main[0]![0].json;
    expect(created.id).toMatch(/^sess_/);
    expect(created.mode).toBe('ai_agent');
    expect(created.metadata).toEqual({ crm_id: 'C-4242', campaign: 'spring-recall' });
    expect(created.stream?.url).toEqual(expect.stringContaining(String(created.id)));
    expect(sandbox.sessions.has(created.id)).toBe(true);
    const sessionsAfterFirst = sandbox.sessions.size;

    const before2 = sandbox.requests.length;
    const second = await timed('manual run (re-run)', () => n8n.runWorkflow(wf.id));
    expect(second.status).toBe('success');
    const again = second.data!.resultData.runData['Create Session'][0].data!.main[0]![0].json;
    expect(again.id).toBe(created.id);
    expect(sandbox.sessions.size).toBe(sessionsAfterFirst);
    const posts2 = sandbox.requests.slice(before2).filter((r) => r.method === 'POST' && r.path === '/v1/sessions');
    expect(posts2).toHaveLength(1);
    expect(posts2[0].headers['idempotency-key']).toBe('e2e-C-4242');
  });

  test('a published Kallglot Trigger starts one execution per final transcript and one for session.ended, in order', async () => {
    const wf = await n8n.importWorkflow(triggerWorkflow(credential, {}, 'e2e: trigger (call)'));
    const known = new Set(sandbox.sessions.keys());
    await timed('publish trigger', () => n8n.activate(wf.id));
    const sessionId = await waitForListenedSession(sandbox, known);
    expect(sandbox.sessions.get(sessionId)!.mode).toBe('bidirectional_translation');

    await timed('play call', () => sandbox.play(sessionId, { intervalMs: 30, endWhenDone: true }));
    const items = await timed('9 executions', () => triggerItems(n8n, wf.id, BILINGUAL_CALL.length + 1));
    expect(items).toHaveLength(BILINGUAL_CALL.length + 1);
    // No late extra execution (a duplicate final, a second session.ended).
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await n8n.listExecutions({ workflowId: wf.id })).toHaveLength(BILINGUAL_CALL.length + 1);

    const finals = items.filter((i) => i.event === 'transcript.final').sort((a, b) => a.sequence - b.sequence);
    expect(finals.map((i) => i.sequence)).toEqual(BILINGUAL_CALL.map((_, k) => k + 1));
    expect(
      finals.map((i) => ({ sessionId: i.sessionId, speaker: i.speaker, language: i.language, text: i.text, translation: i.translation, isFinal: i.isFinal })),
    ).toEqual(
      BILINGUAL_CALL.map((u) => ({ sessionId, speaker: u.speaker, language: u.language, text: u.text, translation: u.translation, isFinal: true })),
    );
    const ended = items.filter((i) => i.event === 'session.ended');
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ sessionId, reason: 'call_completed', sequence: null });
    // session.ended is the last execution.
    expect(items[items.length - 1].event).toBe('session.ended');
    expect(sandbox.sessions.get(sessionId)!.status).toBe('ended');

    await n8n.deactivate(wf.id);
  });

  test('unpublishing the trigger closes its stream and ends the session it created', async () => {
    const wf = await n8n.importWorkflow(triggerWorkflow(credential, {}, 'e2e: trigger (deactivate)'));
    const known = new Set(sandbox.sessions.keys());
    await n8n.activate(wf.id);
    const sessionId = await waitForListenedSession(sandbox, known);
    expect(sandbox.sessions.get(sessionId)!.status).not.toBe('ended');

    await timed('unpublish trigger', () => n8n.deactivate(wf.id));
    await waitFor('the stream to close', () => sandbox.openStreamCount() === 0, 15_000);
    await waitFor('the session to end', () => sandbox.sessions.get(sessionId)!.status === 'ended', 15_000);
    expect(sandbox.openStreamCount(sessionId)).toBe(0);
    expect(sandbox.sessions.get(sessionId)!.status).toBe('ended');
    const endCalls = sandbox.requests.filter((r) => r.method === 'POST' && r.path === `/v1/sessions/${sessionId}/end`);
    expect(endCalls.length).toBeGreaterThanOrEqual(1);
    expect(await n8n.activeWorkflowIds()).not.toContain(wf.id);
  });
});
