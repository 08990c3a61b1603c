/**
 * E2E (real n8n) queue-mode scaffold: EXECUTIONS_MODE=queue with PostgreSQL (a fresh database
 * per run, dropped at the end) and Redis (a unique QUEUE_BULL_PREFIX), one main and two workers
 * sharing N8N_ENCRYPTION_KEY, every process with our package linked.
 *
 * PostgreSQL/Redis are checked in global-setup (E2E_QUEUE_SERVICES): when one cannot be reached
 * this file is skipped with the reason outside CI, and fails in CI (CI=true).
 */
import { randomUUID } from 'crypto';

import { startQueueCluster, type N8nExecution, type N8nInstance, type QueueCluster } from '../../scripts/n8n/harness';
import { KallglotSandbox } from '../../sandbox';
import { kallglotNode, WEBHOOK_CREDENTIAL_TYPE, webhookTriggerItem, webhookTriggerWorkflow } from './helpers/kallglot';
import { CREDENTIAL_TYPE, E2E_N8N_VERSION, getInstall, inCI, NODE_TYPES, setNode, timed, webhookNode } from './helpers/n8n';

/** "Worker started execution N" in one of the workers' logs since `offsets`: which worker ran which execution. */
function workerOf(cluster: QueueCluster, offsets: number[], executionId: string | number): string[] {
  const re = new RegExp(`Worker started execution ${executionId} \\(job`);
  return cluster.workers
    .filter((w, i) => re.test(Buffer.from(w.readLog()).subarray(offsets[i]).toString('utf8')))
    .map((w) => w.name);
}

/** Whether the main logged that it put execution N on the queue (since `offset`). */
function enqueuedByMain(main: N8nInstance, offset: number, executionId: string | number): boolean {
  return new RegExp(`Enqueued execution ${executionId} \\(job`).test(Buffer.from(main.readLog()).subarray(offset).toString('utf8'));
}

/** Lines of the main's log (since `offset`) showing it ran the workflow itself instead of enqueueing it. */
function ranOnMain(main: N8nInstance, offset: number, workflowId: string): string[] {
  return Buffer.from(main.readLog())
    .subarray(offset)
    .toString('utf8')
    .split('\n')
    .filter((l) => /Workflow execution started|Start executing node/.test(l) && l.includes(workflowId));
}

async function eventually<T>(what: string, fn: () => T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const services = JSON.parse(process.env.E2E_QUEUE_SERVICES || '{"ok":true,"problems":[]}') as { ok: boolean; problems: string[] };
const describeQueue = services.ok || inCI ? describe : describe.skip;
if (!services.ok) {
  console.warn(`[e2e] queue mode ${inCI ? 'FAILS' : 'SKIPPED'}: ${services.problems.join('; ')}`);
}

describeQueue(`n8n ${E2E_N8N_VERSION} queue mode: main + 2 workers`, () => {
  let cluster: QueueCluster;
  let sandbox: KallglotSandbox;
  let credential: { id: string; name: string };

  beforeAll(async () => {
    if (!services.ok) throw new Error(`queue mode needs PostgreSQL and Redis: ${services.problems.join('; ')}`);
    cluster = await timed('start queue cluster (main + 2 workers)', async () =>
      startQueueCluster({ install: await getInstall(), workers: 2 }),
    );
    await cluster.main.ensureOwner();
    await cluster.main.createApiKey();
    sandbox = await KallglotSandbox.start();
    credential = await cluster.main.createCredential(CREDENTIAL_TYPE, { apiKey: sandbox.apiKey, baseUrl: sandbox.baseUrl }, { name: 'Kallglot sandbox' });
  });

  afterAll(async () => {
    await cluster?.stop();
    await sandbox?.close();
  });

  test('the main and both workers are up, on one database and one queue prefix', async () => {
    expect(cluster.main.running).toBe(true);
    expect(cluster.workers).toHaveLength(2);
    for (const w of cluster.workers) {
      expect(w.running).toBe(true);
      const res = await fetch(`http://127.0.0.1:${w.healthPort}/healthz/readiness`);
      expect(res.status).toBe(200);
      expect(w.env.DB_POSTGRESDB_DATABASE).toBe(cluster.database);
      expect(w.env.QUEUE_BULL_PREFIX).toBe(cluster.prefix);
      expect(w.env.N8N_ENCRYPTION_KEY).toBe(cluster.main.encryptionKey);
    }
    const settings = await cluster.main.settings();
    expect(settings.executionMode).toBe('queue');
  });

  test('a published webhook workflow executes on a worker, not on the main', async () => {
    const main = cluster.main;
    const path = `e2e-queue-${randomUUID()}`;
    const wf = await main.importWorkflow({
      name: 'queue: webhook -> set',
      nodes: [
        webhookNode(path, 'POST', 'onReceived'),
        setNode('Set', [240, 0], { greeting: '={{ "hello " + $json.body.who }}' }),
      ],
      connections: { Webhook: { main: [[{ node: 'Set', type: 'main', index: 0 }]] } },
      settings: { executionOrder: 'v1' },
    });
    await main.activate(wf.id);

    const offsets = cluster.workers.map((w) => w.logOffset());
    const res = await timed('webhook call', () =>
      fetch(`${main.baseUrl}/webhook/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ who: 'queue' }),
      }),
    );
    expect(res.status).toBe(200);

    const [execution] = await timed('execution on a worker', () => main.waitForExecutions(wf.id, 1, { timeoutMs: 60_000 }));
    expect(execution.status).toBe('success');
    expect(execution.data!.resultData.runData.Set[0].data!.main[0]![0].json.greeting).toBe('hello queue');

    // Exactly one worker logged that it ran this execution.
    const re = new RegExp(`Worker (started|finished) execution ${execution.id}\\b`);
    const ranOn = cluster.workers.filter((w, i) => re.test(Buffer.from(w.readLog()).subarray(offsets[i]).toString('utf8')));
    expect(ranOn.map((w) => w.name)).toHaveLength(1);
    expect(main.readLog()).not.toMatch(re);

    await main.deactivate(wf.id);
  });

  test('a published Kallglot Trigger on the main: a scripted call\'s 9 executions all run on workers, each event once', async () => {
    const main = cluster.main;
    const wf = await main.importWorkflow(
      {
        name: 'queue: Kallglot Trigger',
        nodes: [
          kallglotNode(NODE_TYPES.trigger, 'Kallglot Trigger', [0, 0], credential, {
            sessionSource: 'create',
            afterSessionEnds: 'stop',
            mode: 'bidirectional_translation',
            sourceLanguage: 'es',
            targetLanguage: 'en',
            routing: 'default',
            events: ['finals', 'ended'],
            emitAs: 'event',
            filters: {},
            options: {},
          }),
        ],
        connections: {},
        settings: { executionOrder: 'v1' },
      },
    );
    const before = new Set(sandbox.sessions.keys());
    const workerOffsets = cluster.workers.map((w) => w.logOffset());
    const mainOffset = main.logOffset();
    await timed('publish the trigger workflow', () => main.activate(wf.id));

    // The trigger (on the main) created a session and holds its stream.
    const sessionId = await timed('trigger connects', () =>
      eventually('the trigger to create a session and open its stream', () =>
        [...sandbox.sessions.keys()].find((id) => !before.has(id) && sandbox.openStreamCount(id) === 1),
      ),
    );
    expect([...sandbox.sessions.keys()].filter((id) => !before.has(id))).toEqual([sessionId]);

    await timed('scripted call', () => sandbox.play(sessionId, { intervalMs: 30, endWhenDone: true }));
    await timed('9 executions', () => main.waitForExecutions(wf.id, 9, { timeoutMs: 120_000 }));
    // Nothing more arrives (no duplicate of a final or of session.ended).
    await new Promise((r) => setTimeout(r, 3000));
    const all = await main.listExecutions({ workflowId: wf.id, includeData: true, limit: 100 });
    expect(all).toHaveLength(9);
    expect(all.map((e) => e.status)).toEqual(Array(9).fill('success'));

    const items = all.map((e: N8nExecution) => e.data!.resultData.runData['Kallglot Trigger'][0].data!.main[0]!.map((i) => i.json)).flat();
    expect(items).toHaveLength(9);
    expect(items.every((i) => i.sessionId === sessionId)).toBe(true);
    const finals = items.filter((i) => i.event === 'transcript.final');
    const ended = items.filter((i) => i.event === 'session.ended');
    expect(finals).toHaveLength(8);
    expect(ended).toHaveLength(1);
    // The 8 sequence values (the sandbox numbers a fresh session's utterances 1, 2, …), each exactly once.
    const sequences = finals.map((i) => i.sequence as number).sort((a, b) => a - b);
    expect(sequences).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);

    // Every execution ran on exactly one worker; the main only enqueued.
    const placement = Object.fromEntries(all.map((e) => [String(e.id), workerOf(cluster, workerOffsets, e.id)]));
    for (const [id, ranOn] of Object.entries(placement)) {
      expect({ id, ranOn: ranOn.length, enqueuedByMain: enqueuedByMain(main, mainOffset, id) }).toEqual({ id, ranOn: 1, enqueuedByMain: true });
    }
    expect(ranOnMain(main, mainOffset, wf.id)).toEqual([]);
    console.log(`[e2e ${E2E_N8N_VERSION}] trigger executions per worker: ${JSON.stringify(
      Object.values(placement).flat().reduce<Record<string, number>>((acc, w) => ({ ...acc, [w]: (acc[w] ?? 0) + 1 }), {}),
    )}`);

    await main.deactivate(wf.id);
  });

  test('a webhook-started Session → Create runs on a worker and creates exactly one session', async () => {
    const main = cluster.main;
    const path = `e2e-queue-create-${randomUUID()}`;
    const wf = await main.importWorkflow(
      {
        name: 'queue: webhook -> Kallglot Session Create',
        nodes: [
          webhookNode(path, 'POST', 'lastNode'),
          kallglotNode(NODE_TYPES.action, 'Create Session', [240, 0], credential, {
            resource: 'session',
            operation: 'create',
            mode: 'bidirectional_translation',
            sourceLanguage: 'es',
            targetLanguage: 'en',
            routing: 'default',
            // (not `caller`: n8n 2.41.1's expression sandbox refuses a property of that name)
            metadata: { entry: [{ key: 'customer', value: '={{ $json.body.customer }}' }] },
          }),
        ],
        connections: { Webhook: { main: [[{ node: 'Create Session', type: 'main', index: 0 }]] } },
        settings: { executionOrder: 'v1' },
      },
    );
    await main.activate(wf.id);

    const before = new Set(sandbox.sessions.keys());
    const postsBefore = sandbox.requests.filter((r) => r.method === 'POST' && r.path === '/v1/sessions').length;
    const workerOffsets = cluster.workers.map((w) => w.logOffset());
    const mainOffset = main.logOffset();
    const res = await timed('webhook -> Session Create', () =>
      fetch(`${main.baseUrl}/webhook/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ customer: 'queue-e2e' }),
      }),
    );
    const body = await res.text();
    const [execution] = await main.waitForExecutions(wf.id, 1, { timeoutMs: 60_000 });
    const error = execution.data?.resultData.error;
    expect({ status: res.status, body, execution: execution.status, error: error?.message }).toEqual({
      status: 200,
      body: expect.any(String),
      execution: 'success',
      error: undefined,
    });
    const created = execution.data!.resultData.runData['Create Session'][0].data!.main[0]![0].json;

    const newSessions = [...sandbox.sessions.keys()].filter((id) => !before.has(id));
    expect(newSessions).toHaveLength(1);
    expect(sandbox.requests.filter((r) => r.method === 'POST' && r.path === '/v1/sessions').length - postsBefore).toBe(1);
    expect(sandbox.sessions.get(newSessions[0])?.metadata).toEqual(expect.objectContaining({ customer: 'queue-e2e' }));
    expect(JSON.stringify(created)).toContain(newSessions[0]);
    expect(body).toContain(newSessions[0]);

    expect(workerOf(cluster, workerOffsets, execution.id)).toHaveLength(1);
    expect(enqueuedByMain(main, mainOffset, execution.id)).toBe(true);
    expect(ranOnMain(main, mainOffset, wf.id)).toEqual([]);
    await main.deactivate(wf.id);
  });

  test('a published Kallglot Webhook Trigger: the sandbox’s signed deliveries run on workers, a duplicate delivery not doubled', async () => {
    const main = cluster.main;
    const secret = `whsec_queue_${randomUUID().replace(/-/g, '')}`;
    const campaign = `queue-${randomUUID().slice(0, 8)}`;
    const created = await main.createCredential(WEBHOOK_CREDENTIAL_TYPE, { signingSecret: secret, previousSigningSecret: '' }, { name: 'Kallglot webhook', via: 'rest' });
    const { workflow, path } = webhookTriggerWorkflow(
      { webhook: { id: String(created.id), name: created.name }, api: { id: String(credential.id), name: credential.name } },
      {
        events: ['session.ended', 'transcript.ready'],
        filters: { metadata: { conditions: [{ key: 'campaign', value: campaign }] } },
        options: { fetchTranscript: true },
      },
    );
    const wf = await main.importWorkflow(workflow);
    await main.activate(wf.id);
    sandbox.configureWebhooks({ url: `${main.baseUrl}/webhook/${path}`, secret });
    sandbox.setWebhookFaults({ duplicate: 2, types: ['session.ended', 'transcript.ready'] });

    const workerOffsets = cluster.workers.map((w) => w.logOffset());
    const mainOffset = main.logOffset();
    const res = await fetch(`${sandbox.baseUrl}/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sandbox.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'bidirectional_translation', source_language: 'es', target_language: 'en', metadata: { campaign } }),
    });
    const session = (await res.json()) as { id: string };
    await sandbox.play(session.id, { intervalMs: 0, waitForListener: false, endWhenDone: true });

    await timed('2 webhook executions', () => main.waitForExecutions(wf.id, 2, { timeoutMs: 120_000 }));
    await sandbox.webhooksIdle();
    sandbox.configureWebhooks(null);
    sandbox.setWebhookFaults({});
    const ours = sandbox.webhookDeliveries.filter((d) => ['session.ended', 'transcript.ready'].includes(d.type) && d.url.includes(path));
    // Each of the two events was delivered twice (two delivery ids), every attempt answered 200.
    expect(ours).toHaveLength(4);
    expect(ours.every((d) => d.status === 200)).toBe(true);
    expect(new Set(ours.map((d) => d.webhookId)).size).toBe(4);

    const all = await main.listExecutions({ workflowId: wf.id, includeData: true, limit: 50 });
    expect(all.map((e) => e.status)).toEqual(['success', 'success']);
    const items = all.map((e) => webhookTriggerItem(e).json);
    expect(items.map((i) => i.event).sort()).toEqual(['session.ended', 'transcript.ready']);
    expect(new Set(items.map((i) => i.eventId))).toEqual(new Set(ours.map((d) => d.eventId)));
    expect(items.every((i) => i.sessionId === session.id && i.metadata.campaign === campaign)).toBe(true);
    expect(items.find((i) => i.event === 'transcript.ready')!.transcript.turns.length).toBeGreaterThan(0);

    for (const e of all) {
      expect({ id: e.id, ranOn: workerOf(cluster, workerOffsets, e.id).length, enqueuedByMain: enqueuedByMain(main, mainOffset, e.id) }).toEqual({ id: e.id, ranOn: 1, enqueuedByMain: true });
    }
    expect(ranOnMain(main, mainOffset, wf.id)).toEqual([]);
    await main.deactivate(wf.id);
  });
});
