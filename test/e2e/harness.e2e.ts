/**
 * E2E self-checks of the harness on the n8n under test (no Kallglot nodes involved), so the
 * other e2e tests can rely on: manual runs through REST, publish (activate) / unpublish, and a
 * restart on the same user folder with the published workflow coming back.
 */
import { randomUUID } from 'crypto';

import type { N8nInstance } from '../../scripts/n8n/harness';
import { E2E_N8N_VERSION, manualTriggerNode, setNode, startSignedInN8n, timed, webhookNode } from './helpers/n8n';

describe(`harness on n8n ${E2E_N8N_VERSION}`, () => {
  let n8n: N8nInstance;

  beforeAll(async () => {
    n8n = await timed('start n8n', () => startSignedInN8n({ name: 'harness' }));
  });

  afterAll(async () => {
    await n8n?.dispose();
  });

  test('runs a Manual Trigger -> Set workflow through REST and reads the execution back', async () => {
    const wf = await n8n.importWorkflow({
      name: 'harness: manual -> set',
      nodes: [
        manualTriggerNode(),
        setNode('Set', [240, 0], { hello: 'world' }),
      ],
      connections: { Manual: { main: [[{ node: 'Set', type: 'main', index: 0 }]] } },
    });
    const execution = await timed('manual run', () => n8n.runWorkflow(wf.id));
    expect(execution.status).toBe('success');
    expect(execution.mode).toBe('manual');
    expect(execution.data!.resultData.runData.Set[0].data!.main[0]![0].json).toEqual({ hello: 'world' });
    const listed = await n8n.listExecutions({ workflowId: wf.id });
    expect(listed.map((e) => String(e.id))).toContain(String(execution.id));
  });

  test('a published webhook workflow survives a restart on the same user folder', async () => {
    const path = `harness-${randomUUID()}`;
    const wf = await n8n.importWorkflow({
      name: 'harness: webhook',
      nodes: [
        webhookNode(path, 'GET', 'onReceived'),
      ],
      connections: {},
    });
    await n8n.activate(wf.id);
    expect(await n8n.activeWorkflowIds()).toContain(wf.id);
    expect((await fetch(`${n8n.baseUrl}/webhook/${path}`)).status).toBe(200);

    const pidBefore = n8n.pid;
    await timed('restart', () => n8n.restart());
    expect(n8n.pid).not.toBe(pidBefore);

    // Same session cookie and API key still work; the workflow is active again; its webhook answers.
    // (2.41.1 re-applies publications after start: wait for it; 2.8.4 has them before REST is up.)
    await n8n.waitForPublication(wf.id, { until: 'published' });
    expect(await n8n.activeWorkflowIds()).toContain(wf.id);
    expect((await n8n.api('GET', `/workflows/${wf.id}`)).active).toBe(true);
    expect((await fetch(`${n8n.baseUrl}/webhook/${path}`)).status).toBe(200);
    await n8n.waitForExecutions(wf.id, 2);

    await n8n.deactivate(wf.id);
    expect(await n8n.activeWorkflowIds()).not.toContain(wf.id);
    expect((await fetch(`${n8n.baseUrl}/webhook/${path}`)).status).toBe(404);
  });
});
