/**
 * E2E: the Kallglot Trigger in a real n8n survives what production throws at it.
 * - The sandbox drops the stream mid-call and replays frames on reconnect: the trigger
 *   reconnects with a fresh token and emits every final transcript exactly once.
 * - n8n restarts with the trigger published: the trigger comes back, opens a stream again and a
 *   played call produces executions.
 */
import type { N8nInstance } from '../../scripts/n8n/harness';
import { BILINGUAL_CALL, KallglotSandbox } from '../../sandbox';
import { E2E_N8N_VERSION, startSignedInN8n, timed } from './helpers/n8n';
import { sandboxCredential, triggerItems, triggerWorkflow, waitFor, waitForListenedSession, type CredentialRef } from './helpers/kallglot';

describe(`Kallglot Trigger resilience on n8n ${E2E_N8N_VERSION}`, () => {
  let n8n: N8nInstance;
  let sandbox: KallglotSandbox;
  let credential: CredentialRef;

  beforeAll(async () => {
    sandbox = await KallglotSandbox.start();
    n8n = await timed('start n8n', () => startSignedInN8n({ name: 'resilience' }));
    credential = await sandboxCredential(n8n, sandbox);
  });

  afterAll(async () => {
    await n8n?.dispose();
    await sandbox?.close();
  });

  test('a stream dropped mid-call is reconnected with a fresh token and no final transcript is emitted twice', async () => {
    const wf = await n8n.importWorkflow(triggerWorkflow(credential, {}, 'e2e: trigger (drop)'));
    const known = new Set(sandbox.sessions.keys());
    await n8n.activate(wf.id);
    const sessionId = await waitForListenedSession(sandbox, known);

    sandbox.setStreamFaults(sessionId, { dropAfterFrames: 8, replayOnReconnect: 5 });
    await timed('play call with a drop', () => sandbox.play(sessionId, { intervalMs: 30, endWhenDone: true }));

    const items = await timed('executions', () => triggerItems(n8n, wf.id, BILINGUAL_CALL.length + 1));
    // Let any late duplicate show up before counting.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const all = await triggerItems(n8n, wf.id, BILINGUAL_CALL.length + 1);
    expect(all).toHaveLength(items.length);

    const accepted = sandbox.handshakes.filter((h) => h.sessionId === sessionId && h.status === 101);
    expect(accepted).toHaveLength(2);
    expect(accepted[0].token).toBeTruthy();
    expect(accepted[1].token).toBeTruthy();
    expect(accepted[1].token).not.toBe(accepted[0].token);

    const sequences = all.filter((i) => i.event === 'transcript.final').map((i) => i.sequence as number);
    expect([...sequences].sort((a, b) => a - b)).toEqual(BILINGUAL_CALL.map((_, k) => k + 1));
    const finals = all.filter((i) => i.event === 'transcript.final').sort((a, b) => a.sequence - b.sequence);
    expect(finals.map((i) => i.translation)).toEqual(BILINGUAL_CALL.map((u) => u.translation));
    expect(all.filter((i) => i.event === 'session.ended')).toHaveLength(1);
    expect(all).toHaveLength(BILINGUAL_CALL.length + 1);

    await n8n.deactivate(wf.id);
  });

  test('after an n8n restart the published trigger listens again and a call produces executions', async () => {
    const wf = await n8n.importWorkflow(triggerWorkflow(credential, {}, 'e2e: trigger (restart)'));
    const known = new Set(sandbox.sessions.keys());
    await n8n.activate(wf.id);
    const firstSession = await waitForListenedSession(sandbox, known);
    expect(sandbox.openStreamCount()).toBe(1);

    const beforeRestart = new Set(sandbox.sessions.keys());
    await timed('restart n8n', () => n8n.restart());
    await n8n.waitForPublication(wf.id, { until: 'published' });
    expect(await n8n.activeWorkflowIds()).toContain(wf.id);

    // The old process is gone, so its socket is closed; the trigger created a new session and listens to it.
    const secondSession = await timed('trigger back', () => waitForListenedSession(sandbox, beforeRestart, 60_000));
    expect(secondSession).not.toBe(firstSession);
    expect(sandbox.openStreamCount(firstSession)).toBe(0);
    expect(sandbox.openStreamCount()).toBe(1);
    console.log(
      `[e2e ${E2E_N8N_VERSION}] after restart: first session ${firstSession} status=${sandbox.sessions.get(firstSession)!.status} ` +
        `(end called: ${sandbox.requests.some((r) => r.method === 'POST' && r.path === `/v1/sessions/${firstSession}/end`)})`,
    );

    // n8n ran the trigger's closeFunction on shutdown (both versions): the first session was ended, not left billing.
    expect(sandbox.sessions.get(firstSession)!.status).toBe('ended');
    expect(sandbox.requests.some((r) => r.method === 'POST' && r.path === `/v1/sessions/${firstSession}/end`)).toBe(true);

    await timed('play call after restart', () => sandbox.play(secondSession, { intervalMs: 30, endWhenDone: true }));
    const items = await triggerItems(n8n, wf.id, BILINGUAL_CALL.length + 1);
    const ofSecond = items.filter((i) => i.sessionId === secondSession);
    expect(ofSecond.filter((i) => i.event === 'transcript.final').map((i) => i.sequence).sort((a, b) => a - b)).toEqual(
      BILINGUAL_CALL.map((_, k) => k + 1),
    );
    expect(ofSecond.filter((i) => i.event === 'session.ended')).toHaveLength(1);

    await n8n.deactivate(wf.id);
    await waitFor('all streams closed', () => sandbox.openStreamCount() === 0, 15_000);
  });
});
