/**
 * E2E (real n8n) queue-mode scaffold: EXECUTIONS_MODE=queue with PostgreSQL (a fresh database
 * per run, dropped at the end) and Redis (a unique QUEUE_BULL_PREFIX), one main and two workers
 * sharing N8N_ENCRYPTION_KEY, every process with our package linked.
 *
 * PostgreSQL/Redis are checked in global-setup (E2E_QUEUE_SERVICES): when one cannot be reached
 * this file is skipped with the reason outside CI, and fails in CI (CI=true).
 */
import { randomUUID } from 'crypto';

import { startQueueCluster, type QueueCluster } from '../../scripts/n8n/harness';
import { E2E_N8N_VERSION, getInstall, inCI, timed } from './helpers/n8n';

const services = JSON.parse(process.env.E2E_QUEUE_SERVICES || '{"ok":true,"problems":[]}') as { ok: boolean; problems: string[] };
const describeQueue = services.ok || inCI ? describe : describe.skip;
if (!services.ok) {
  // eslint-disable-next-line no-console
  console.warn(`[e2e] queue mode ${inCI ? 'FAILS' : 'SKIPPED'}: ${services.problems.join('; ')}`);
}

describeQueue(`n8n ${E2E_N8N_VERSION} queue mode: main + 2 workers`, () => {
  let cluster: QueueCluster;

  beforeAll(async () => {
    if (!services.ok) throw new Error(`queue mode needs PostgreSQL and Redis: ${services.problems.join('; ')}`);
    cluster = await timed('start queue cluster (main + 2 workers)', async () =>
      startQueueCluster({ install: await getInstall(), workers: 2 }),
    );
    await cluster.main.ensureOwner();
    await cluster.main.createApiKey();
  });

  afterAll(async () => {
    await cluster?.stop();
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
        {
          id: randomUUID(),
          name: 'Webhook',
          type: 'n8n-nodes-base.webhook',
          typeVersion: 2,
          position: [0, 0],
          webhookId: randomUUID(),
          parameters: { httpMethod: 'POST', path, responseMode: 'onReceived', options: {} },
        },
        {
          id: randomUUID(),
          name: 'Set',
          type: 'n8n-nodes-base.set',
          typeVersion: 3.4,
          position: [240, 0],
          parameters: {
            assignments: { assignments: [{ id: randomUUID(), name: 'greeting', value: '={{ "hello " + $json.body.who }}', type: 'string' }] },
            options: {},
          },
        },
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
});
