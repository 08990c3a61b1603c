/**
 * E2E: the Kallglot Webhook Trigger published in a real n8n, receiving the sandbox's signed
 * webhooks: enrichment (full transcript, recording as binary read back by n8n's Extract From
 * File, analysis), refused signatures (401, no execution, retried by the sender), and one
 * execution per event id for duplicate deliveries, also across an n8n restart.
 */
import { randomUUID } from 'crypto';

import type { N8nExecution, N8nInstance } from '../../scripts/n8n/harness';
import { KallglotSandbox } from '../../sandbox';
import {
  postSigned,
  sandboxCredential,
  waitFor,
  WEBHOOK_CREDENTIAL_TYPE,
  webhookEnvelope,
  webhookTriggerItem,
  webhookTriggerWorkflow,
  type CredentialRef,
} from './helpers/kallglot';
import { E2E_N8N_VERSION, startSignedInN8n, timed } from './helpers/n8n';

const SECRET = `whsec_e2e_${randomUUID().replace(/-/g, '')}`;
const CAMPAIGN = `e2e-${randomUUID().slice(0, 8)}`;
const POST_CALL = ['session.ended', 'transcript.ready', 'recording.ready', 'analysis.complete'];

describe(`Kallglot Webhook Trigger on n8n ${E2E_N8N_VERSION}`, () => {
  let n8n: N8nInstance;
  let sandbox: KallglotSandbox;
  let api: CredentialRef;
  let webhook: CredentialRef;
  let workflowId: string;
  let url: string;
  const started = Date.now();

  beforeAll(async () => {
    sandbox = await KallglotSandbox.start({ recordingProcessingMs: 200, analysisProcessingMs: 500 });
    n8n = await timed('start n8n', () => startSignedInN8n({ name: 'webhook' }));
    api = await sandboxCredential(n8n, sandbox);
    const created = await n8n.createCredential(WEBHOOK_CREDENTIAL_TYPE, { signingSecret: SECRET, previousSigningSecret: '' }, { name: 'Kallglot webhook', via: 'rest' });
    webhook = { id: String(created.id), name: created.name };

    const { workflow, path } = webhookTriggerWorkflow(
      { webhook, api },
      {
        events: POST_CALL,
        verifySignatures: true,
        filters: { metadata: { conditions: [{ key: 'campaign', value: CAMPAIGN }] } },
        options: { fetchTranscript: true, downloadRecording: true, fetchAnalysis: true },
      },
      [
        {
          id: randomUUID(),
          name: 'Audio as Base64',
          type: 'n8n-nodes-base.extractFromFile',
          typeVersion: 1,
          position: [240, 0],
          parameters: { operation: 'binaryToPropery', binaryPropertyName: 'data', destinationKey: 'base64' },
          // Only recording items carry a file; the others pass through with an error note.
          onError: 'continueRegularOutput',
        },
      ],
    );
    const wf = await n8n.importWorkflow(workflow);
    workflowId = wf.id;
    await timed('publish', () => n8n.activate(workflowId));
    url = `${n8n.baseUrl}/webhook/${path}`;
    sandbox.configureWebhooks({ url, secret: SECRET });
  });

  afterAll(async () => {
    sandbox?.configureWebhooks(null);
    await sandbox?.webhooksIdle();
    await n8n?.dispose();
    await sandbox?.close();
    console.log(`[e2e ${E2E_N8N_VERSION}] webhook.e2e.ts wall time: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  const rest = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${sandbox.baseUrl}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${sandbox.apiKey}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
    });
    return (await res.json()) as Record<string, any>;
  };

  /** A recorded (dual-channel) session of the campaign, its scripted call played and ended. */
  async function campaignCall(contact: string): Promise<string> {
    const session = await rest('/sessions', {
      method: 'POST',
      body: JSON.stringify({
        mode: 'bidirectional_translation',
        source_language: 'es',
        target_language: 'en',
        metadata: { campaign: CAMPAIGN, contact_id: contact },
        recording: { enabled: true },
      }),
    });
    await sandbox.play(session.id, { intervalMs: 0, waitForListener: false, endWhenDone: true });
    return session.id as string;
  }

  const all = async (): Promise<N8nExecution[]> => {
    const list = await n8n.listExecutions({ workflowId, includeData: true, limit: 250 });
    return list.filter((e) => e.status === 'success' || e.status === 'error');
  };
  const ofSession = async (sessionId: string) => (await all()).filter((e) => webhookTriggerItem(e).json.sessionId === sessionId);
  const ofEvent = async (eventId: string) => (await all()).filter((e) => webhookTriggerItem(e).json.eventId === eventId);
  const delivered = (eventId: string) => sandbox.webhookDeliveries.filter((d) => d.eventId === eventId);

  test('the credential test checks the signing secret’s form', async () => {
    expect(await n8n.testCredential(webhook.id)).toMatchObject({ status: 'OK' });
    const pasted = await n8n.testCredential(webhook.id, { data: { signingSecret: `${SECRET}\n`, previousSigningSecret: '' } });
    expect(pasted).toMatchObject({ status: 'Error', message: expect.stringContaining('line break') });
  });

  test('the sandbox’s signed post-call events start one execution each, enriched: transcript, recording as binary, analysis', async () => {
    const sessionId = await campaignCall('c-1');
    await waitFor('recordings ready', () => sandbox.postCall.recordingsOf(sessionId).length === 2 && sandbox.postCall.recordingsOf(sessionId).every((r) => r.status === 'ready'));
    const analysis = await rest(`/sessions/${sessionId}/analysis`, { method: 'POST', body: '{}', headers: { 'Idempotency-Key': randomUUID() } });

    // session.ended + transcript.ready + 2 × recording.ready + analysis.complete
    const executions = await timed('5 executions', () => waitFor('5 executions of the session', async () => {
      const found = await ofSession(sessionId);
      return found.length >= 5 && found;
    }, 120_000));
    await sandbox.webhooksIdle();
    expect(sandbox.webhookDeliveries.filter((d) => d.outcome !== 'delivered')).toEqual([]);
    const items = executions.map((e) => webhookTriggerItem(e));
    const byEvent = (type: string) => items.filter((i) => i.json.event === type);
    expect(items.map((i) => i.json.event).sort()).toEqual(['analysis.complete', 'recording.ready', 'recording.ready', 'session.ended', 'transcript.ready']);
    expect(new Set(items.map((i) => i.json.eventId)).size).toBe(5);
    expect(executions.every((e) => e.status === 'success')).toBe(true);

    // Every item carries the session's metadata (looked up for the non-session events).
    for (const item of items) {
      expect(item.json).toMatchObject({ sessionId, mode: 'bidirectional_translation', metadata: { campaign: CAMPAIGN, contact_id: 'c-1' }, eventId: expect.stringMatching(/^evt_/) });
      expect(item.json.enrichmentError).toBeUndefined();
    }
    expect(byEvent('session.ended')[0].json.data).toMatchObject({ id: sessionId, status: 'ended' });
    const transcript = byEvent('transcript.ready')[0].json.transcript;
    expect(transcript).toMatchObject({ session_id: sessionId, status: 'completed' });
    expect(transcript.turns.length).toBeGreaterThan(0);
    expect(byEvent('analysis.complete')[0].json.analysis).toMatchObject({ id: analysis.id, status: 'completed', summary: expect.anything() });

    // The recordings as n8n binary data: n8n's own Extract From File reads back the served bytes.
    for (const execution of executions.filter((e) => webhookTriggerItem(e).json.event === 'recording.ready')) {
      const { json, binary } = webhookTriggerItem(execution);
      expect(binary?.data).toMatchObject({ mimeType: 'audio/wav', fileName: `recording-${sessionId}-${json.data.channel}.wav` });
      const served = await fetch(`${sandbox.baseUrl}/recordings/${json.data.id}/audio`, { headers: { authorization: `Bearer ${sandbox.apiKey}` } });
      const bytes = Buffer.from(await served.arrayBuffer());
      const read = execution.data!.resultData.runData['Audio as Base64'][0].data!.main[0]![0].json.base64 as string;
      expect(Buffer.from(read, 'base64').equals(bytes)).toBe(true);
      expect(bytes.subarray(0, 4).toString()).toBe('RIFF');
    }

    // Events not selected (created, started, segments) were acknowledged and started nothing.
    const skipped = sandbox.webhookDeliveries.filter((d) => ['session.created', 'session.started', 'transcript.segment'].includes(d.type));
    expect(skipped.length).toBeGreaterThan(0);
    expect(skipped.every((d) => d.status === 200)).toBe(true);
  });

  test('bad signature, stale timestamp and tampered body get 401 and start nothing; the sender’s retry gets in once', async () => {
    sandbox.setWebhookFaults({ badSignature: 1, staleTimestamp: 1, tamperedBody: 1, types: ['session.ended'] });
    const sessionId = await campaignCall('c-2');
    const ended = await waitFor('session.ended delivered', () => sandbox.webhookDeliveries.find((d) => d.type === 'session.ended' && d.outcome === 'delivered' && d.fault === undefined && delivered(d.eventId).length === 4));
    sandbox.setWebhookFaults({});
    const attempts = delivered(ended.eventId);
    expect(attempts.map((a) => [a.retryCount, a.status, a.fault ?? null])).toEqual([
      [0, 401, 'bad_signature'],
      [1, 401, 'stale_timestamp'],
      [2, 401, 'tampered_body'],
      [3, 200, null],
    ]);
    await waitFor('the ended execution', async () => (await ofEvent(ended.eventId)).length === 1);
    expect((await ofSession(sessionId)).filter((e) => webhookTriggerItem(e).json.event === 'session.ended')).toHaveLength(1);

    // Requests without a usable signature: 401 with the reason, logged without the body.
    const marker = `contact-${randomUUID()}`;
    const body = webhookEnvelope('session.ended', { id: sessionId, object: 'session', status: 'ended', metadata: { campaign: CAMPAIGN, note: marker } });
    const logFrom = n8n.logOffset();
    const missing = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({ error: { code: 'signature_missing', message: expect.any(String) } });
    expect(await postSigned(url, body, SECRET, { 'kallglot-signature': 't=1,v1=xyz' })).toMatchObject({ status: 401, body: { error: { code: 'signature_malformed' } } });
    expect(await postSigned(url, body, 'whsec_wrong_secret_0000000000')).toMatchObject({ status: 401, body: { error: { code: 'signature_mismatch' } } });
    expect(await postSigned(url, body, SECRET, {}, Math.floor(Date.now() / 1000) - 301)).toMatchObject({ status: 401, body: { error: { code: 'signature_stale' } } });
    const log = Buffer.from(n8n.readLog()).subarray(logFrom).toString('utf8');
    expect(log).toMatch(/Kallglot webhook refused \(missing\)/);
    expect(log).not.toContain(marker);
    expect(log).not.toContain(SECRET);
    // A sentinel that is accepted proves the refused ones started nothing (they answered first).
    const sentinel = webhookEnvelope('session.ended', { id: sessionId, object: 'session', status: 'ended', mode: 'bidirectional_translation', metadata: { campaign: CAMPAIGN } });
    expect((await postSigned(url, sentinel, SECRET)).status).toBe(200);
    await waitFor('the sentinel execution', async () => (await ofEvent(JSON.parse(sentinel).id)).length === 1);
    expect((await all()).filter((e) => JSON.stringify(webhookTriggerItem(e).json).includes(marker))).toEqual([]);
  });

  test('a duplicate delivery starts one execution, also when the retry arrives after an n8n restart', async () => {
    sandbox.setWebhookFaults({ duplicate: 1, types: ['session.ended'] });
    const sessionId = await campaignCall('c-3');
    const chains = await waitFor('session.ended delivered twice', () => {
      const ended = sandbox.webhookDeliveries.filter((d) => d.type === 'session.ended' && d.outcome === 'delivered' && d.eventId && delivered(d.eventId).length === 2);
      return ended.length === 2 && ended;
    });
    sandbox.setWebhookFaults({});
    expect(new Set(chains.map((c) => c.webhookId)).size).toBe(2);
    const eventId = chains[0].eventId;
    await waitFor('its execution', async () => (await ofEvent(eventId)).length === 1);

    // The same event again from the test (as a retry): answered as a duplicate.
    const session = await rest(`/sessions/${sessionId}`);
    const body = webhookEnvelope('session.ended', session, `evt_restart_${randomUUID().slice(0, 8)}`);
    const restartId = JSON.parse(body).id as string;
    expect((await postSigned(url, body, SECRET)).body).toEqual({ received: true });
    await waitFor('the first delivery’s execution', async () => (await ofEvent(restartId)).length === 1);

    await timed('restart n8n', () => n8n.restart());
    await n8n.waitForPublication(workflowId, { until: 'published' });
    const retry = await postSigned(url, body, SECRET, { 'kallglot-retry-count': '1' });
    expect(retry).toEqual({ status: 200, body: { received: true, duplicate: true } });
    const sentinel = webhookEnvelope('session.ended', session);
    expect((await postSigned(url, sentinel, SECRET)).body).toEqual({ received: true });
    await waitFor('the sentinel execution', async () => (await ofEvent(JSON.parse(sentinel).id)).length === 1);
    expect(await ofEvent(restartId)).toHaveLength(1);
    expect(await ofEvent(eventId)).toHaveLength(1);
    console.log(`[e2e ${E2E_N8N_VERSION}] executions per duplicate delivery: sandbox duplicate ${(await ofEvent(eventId)).length}, after restart ${(await ofEvent(restartId)).length}`);
  });
});
