/**
 * E2E: the shipped example workflows (examples/*.json) imported into a real n8n, with their
 * placeholders replaced (credential, agent, CRM URL → a recording server on 127.0.0.1), and run
 * against the Kallglot sandbox.
 */
import { randomUUID } from 'crypto';

import type { N8nInstance } from '../../scripts/n8n/harness';
import { BILINGUAL_CALL, KallglotSandbox, SANDBOX_AGENT_ID } from '../../sandbox';
import { outboundCall } from '../../sandbox/script';
import { E2E_N8N_VERSION, startSignedInN8n, timed } from './helpers/n8n';
import { exampleWorkflow, sandboxCredential, startCrm, waitFor, waitForListenedSession, type CredentialRef } from './helpers/kallglot';

const CAMPAIGN = 'appointment-reminders-2026-11';
/** The dialled number's last digit decides each call's outcome in the sandbox (see sandbox/script.ts). */
const CONTACTS = [
  { contactId: 'C-1001', name: 'Lucía Fernández', phone: '+34911234567', outcome: 'call_back_later', sentiment: 'neutral', keyword: 'tomorrow' },
  { contactId: 'C-1002', name: 'John Carter', phone: '+14155550142', outcome: 'not_interested', sentiment: 'negative', keyword: 'remove' },
  { contactId: 'C-1003', name: 'Amélie Durand', phone: '+33142685300', outcome: 'booked', sentiment: 'positive', keyword: 'tuesday' },
] as const;

describe(`example workflows on n8n ${E2E_N8N_VERSION}`, () => {
  let n8n: N8nInstance;
  let sandbox: KallglotSandbox;
  let crm: Awaited<ReturnType<typeof startCrm>>;
  let credential: CredentialRef;
  let replacements: Record<string, string>;

  beforeAll(async () => {
    sandbox = await KallglotSandbox.start();
    crm = await startCrm();
    n8n = await timed('start n8n', () => startSignedInN8n({ name: 'examples' }));
    credential = await sandboxCredential(n8n, sandbox, 'Kallglot account');
    replacements = {
      KALLGLOT_CREDENTIAL_ID: credential.id,
      KALLGLOT_AGENT_ID: SANDBOX_AGENT_ID,
      'https://crm.example.com/api': crm.url,
    };
  });

  afterAll(async () => {
    await n8n?.dispose();
    await sandbox?.close();
    await crm?.close();
  });

  test('live-translated-call-to-crm.json: published, a call logs 8 activities and one summary note with 8 turns', async () => {
    const wf = await n8n.importWorkflow(exampleWorkflow('live-translated-call-to-crm.json', replacements));
    const known = new Set(sandbox.sessions.keys());
    await timed('publish live-call example', () => n8n.activate(wf.id));
    const sessionId = await waitForListenedSession(sandbox, known);
    const session = sandbox.sessions.get(sessionId)!;
    expect(session.request).toEqual({
      mode: 'bidirectional_translation',
      source_language: 'es',
      target_language: 'en',
      routing: { phone_number: '+14155551234', direction: 'inbound' },
      metadata: { workflow: 'live-call-to-crm' },
    });

    crm.records.length = 0;
    await timed('play call', () => sandbox.play(sessionId, { intervalMs: 30, endWhenDone: true }));
    await timed('CRM posts', () =>
      waitFor('8 activities and a summary note at the CRM', () => crm.records.filter((r) => r.path.endsWith('/notes')).length >= 1 && crm.records.filter((r) => r.path.endsWith('/activities')).length >= 8),
    );

    const activities = crm.records.filter((r) => r.method === 'POST' && r.path === '/api/activities').map((r) => r.body);
    expect(activities).toHaveLength(8);
    expect(activities.sort((a, b) => a.sequence - b.sequence)).toEqual(
      BILINGUAL_CALL.map((u, k) => ({ session_id: sessionId, sequence: k + 1, speaker: u.speaker, language: u.language, text: u.text, translation: u.translation.text })),
    );
    const notes = crm.records.filter((r) => r.method === 'POST' && r.path === '/api/notes').map((r) => r.body);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ session_id: sessionId, title: 'Translated call', turns: 8 });
    expect(String(notes[0].note).split('\n')).toEqual(
      BILINGUAL_CALL.map((u) => `${u.speaker} (${u.language}): ${u.text} → ${u.translation.text}`),
    );

    // "Create the Next Session": the trigger listens to a fresh session for the next call.
    const next = await waitForListenedSession(sandbox, new Set([...known, sessionId]));
    expect(next).not.toBe(sessionId);

    await n8n.deactivate(wf.id);
    await waitFor('streams closed after unpublishing', () => sandbox.openStreamCount() === 0, 15_000);
    expect(sandbox.sessions.get(next)!.status).toBe('ended');
  });

  /**
   * The campaign example, run manually from its Schedule Trigger three times: 3 AI-agent sessions
   * created and dialed, 3 CRM records; re-runs return the same sessions (idempotency keys); two
   * 429s on session creation are retried and the run still succeeds.
   */
  async function runCampaign(wfJson: ReturnType<typeof exampleWorkflow>) {
    sandbox.clearFaults();
    const wf = await n8n.importWorkflow(wfJson);
    const known = new Set(sandbox.sessions.keys());
    crm.records.length = 0;
    let reqStart = sandbox.requests.length;

    const first = await timed('campaign run 1', () => n8n.runWorkflow(wf.id, { triggerNode: 'Weekdays at 10:00' }));
    expect(first.status).toBe('success');
    const creates = sandbox.requests.slice(reqStart).filter((r) => r.method === 'POST' && r.path === '/v1/sessions');
    expect(creates).toHaveLength(3);
    expect(creates.map((r) => r.headers['idempotency-key'])).toEqual(CONTACTS.map((c) => `${CAMPAIGN}:session:${c.contactId}`));
    const created = [...sandbox.sessions.values()].filter((s) => !known.has(s.id));
    expect(created).toHaveLength(3);
    expect(creates.map((r) => r.body)).toEqual(
      CONTACTS.map((c) => ({
        mode: 'ai_agent',
        routing: { phone_number: '+14155551234', direction: 'outbound' },
        recording: { enabled: true },
        ai_agent: { agent_id: SANDBOX_AGENT_ID },
        metadata: { contact_id: c.contactId, contact_name: c.name, campaign: CAMPAIGN },
      })),
    );
    for (const s of created) expect(s.mode).toBe('ai_agent');

    const dials = sandbox.requests.slice(reqStart).filter((r) => r.method === 'POST' && /^\/v1\/sessions\/[^/]+\/dial$/.test(r.path));
    expect(dials).toHaveLength(3);
    expect(dials.map((r) => r.body)).toEqual(CONTACTS.map((c) => ({ to: c.phone })));
    expect(dials.map((r) => r.headers['idempotency-key'])).toEqual(CONTACTS.map((c) => `${CAMPAIGN}:dial:${c.contactId}`));
    expect(dials.every((r) => r.status >= 200 && r.status < 300)).toBe(true);

    const sessionOf = new Map(created.map((s) => [String((s.metadata as any).contact_id), s.id]));
    const records = crm.records.filter((r) => r.path === '/api/call-attempts').map((r) => r.body);
    expect(records).toEqual(CONTACTS.map((c) => ({ contact_id: c.contactId, campaign: CAMPAIGN, session_id: sessionOf.get(c.contactId), status: 'dialing', error: null })));

    // Run again: the same idempotency keys return the same sessions.
    reqStart = sandbox.requests.length;
    const second = await timed('campaign run 2', () => n8n.runWorkflow(wf.id, { triggerNode: 'Weekdays at 10:00' }));
    expect(second.status).toBe('success');
    expect([...sandbox.sessions.keys()].filter((id) => !known.has(id))).toHaveLength(3);
    const secondIds = second.data!.resultData.runData['Create AI Agent Session'][0].data!.main[0]!.map((i) => i.json.id);
    expect(secondIds).toEqual(CONTACTS.map((c) => sessionOf.get(c.contactId)));

    // Run with two rate-limit answers on session creation: retried after Retry-After, still succeeds.
    reqStart = sandbox.requests.length;
    sandbox.injectFault({ path: '/v1/sessions', status: 429, code: 'rate_limit_exceeded', retryAfter: 1, times: 2 });
    const third = await timed('campaign run 3 (429 x2)', () => n8n.runWorkflow(wf.id, { triggerNode: 'Weekdays at 10:00' }));
    expect(third.status).toBe('success');
    const creates3 = sandbox.requests.slice(reqStart).filter((r) => r.method === 'POST' && r.path === '/v1/sessions');
    expect(creates3.filter((r) => r.status === 429)).toHaveLength(2);
    expect(creates3.filter((r) => r.status >= 200 && r.status < 300)).toHaveLength(3);
    // A retry carries the same key as the refused attempt.
    expect(new Set(creates3.map((r) => r.headers['idempotency-key']))).toEqual(new Set(CONTACTS.map((c) => `${CAMPAIGN}:session:${c.contactId}`)));
    expect([...sandbox.sessions.keys()].filter((id) => !known.has(id))).toHaveLength(3);
    const thirdIds = third.data!.resultData.runData['Create AI Agent Session'][0].data!.main[0]!.map((i) => i.json.id);
    expect(thirdIds).toEqual(CONTACTS.map((c) => sessionOf.get(c.contactId)));
    expect(crm.records.filter((r) => r.path === '/api/call-attempts')).toHaveLength(9);
  }

  test('outbound-ai-agent-campaign.json: a run creates and dials 3 AI-agent sessions, re-runs are idempotent, and survive 429s', async () => {
    await runCampaign(exampleWorkflow('outbound-ai-agent-campaign.json', replacements));
  });

  /**
   * The loop closed: the campaign example creates and dials recorded AI-agent sessions; the
   * sandbox plays their calls and delivers signed webhooks to the published results example,
   * which requests an analysis on session.ended and, on analysis.complete, sends the contact's
   * outcome (summary, sentiment, recording links) to the CRM: a different call per contact
   * (booked / call back later / not interested), recordings as long as the call. A session of another campaign
   * reaches the trigger too and starts nothing.
   */
  test('campaign-results-to-crm.json: each contact’s call outcome reaches the CRM from signed webhooks', async () => {
    const started = Date.now();
    const secret = `whsec_e2e_${randomUUID().replace(/-/g, '')}`;
    const calls = await KallglotSandbox.start({ recordingProcessingMs: 200, analysisProcessingMs: 1000 });
    try {
      const api = await sandboxCredential(n8n, calls, 'Kallglot campaign');
      const signing = await n8n.createCredential('kallglotWebhookApi', { signingSecret: secret, previousSigningSecret: '' }, { name: 'Kallglot webhook endpoint', via: 'rest' });
      const webhookId = randomUUID();
      const ours = { ...replacements, KALLGLOT_CREDENTIAL_ID: api.id, KALLGLOT_WEBHOOK_CREDENTIAL_ID: String(signing.id), 'd3f3f3a0-0000-4000-8000-0000000000b1': webhookId };
      const results = await n8n.importWorkflow(exampleWorkflow('campaign-results-to-crm.json', ours));
      await timed('publish campaign results', () => n8n.activate(results.id));
      calls.configureWebhooks({ url: `${n8n.baseUrl}/webhook/${webhookId}/webhook`, secret });

      crm.records.length = 0;
      const campaign = await n8n.importWorkflow(exampleWorkflow('outbound-ai-agent-campaign.json', ours));
      const run = await timed('campaign run', () => n8n.runWorkflow(campaign.id, { triggerNode: 'Weekdays at 10:00' }));
      expect(run.status).toBe('success');
      const dialed = [...calls.sessions.values()].filter((s) => s.call !== null);
      expect(dialed).toHaveLength(3);
      for (const s of dialed) expect(s.recording.enabled).toBe(true);
      const sessionOf = new Map(dialed.map((s) => [String((s.metadata as any).contact_id), s.id]));

      // Another campaign's call: delivered, acknowledged, filtered out.
      const other = await fetch(`${calls.baseUrl}/sessions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${calls.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ mode: 'ai_agent', ai_agent: { agent_id: SANDBOX_AGENT_ID }, metadata: { campaign: 'another-campaign', contact_id: 'C-9' } }),
      }).then((r) => r.json() as Promise<{ id: string }>);

      await timed('play 4 calls', () =>
        Promise.all([...dialed.map((s) => s.id), other.id].map((id) => calls.play(id, { intervalMs: 5, waitForListener: false, endWhenDone: true }))),
      );
      const patches = () => crm.records.filter((r) => r.method === 'PATCH');
      await timed('outcomes at the CRM', () =>
        waitFor('an ended and an outcome record per contact', () => patches().filter((r) => 'summary' in r.body).length >= 3 && patches().length >= 6, 120_000),
      );

      // Each contact's own call: its outcome, sentiment and keywords; recordings as long as the call.
      for (const { contactId, name, outcome: result, sentiment, keyword } of CONTACTS) {
        const sessionId = sessionOf.get(contactId)!;
        const records = patches().filter((r) => r.path === `/api/contacts/${encodeURIComponent(contactId)}`).map((r) => r.body);
        expect(records).toHaveLength(2);
        const ended = records.find((r) => r.call_status === 'ended');
        expect(ended).toEqual({ campaign: CAMPAIGN, session_id: sessionId, call_status: 'ended', end_reason: 'call_completed', duration_seconds: expect.any(Number), ended_at: expect.any(String) });
        const outcome = records.find((r) => 'summary' in r)!;
        expect(outcome).toMatchObject({ campaign: CAMPAIGN, session_id: sessionId, sentiment, sentiment_score: expect.any(Number) });
        expect(outcome.summary).toBe(outboundCall(result, name.split(' ')[0]).summary);
        expect(outcome.keywords).toEqual(expect.arrayContaining([keyword]));
        expect(outcome.recordings.map((r: any) => r.channel).sort()).toEqual(['agent', 'customer']);
        for (const r of outcome.recordings) {
          expect(r).toMatchObject({ status: 'ready', download_url: `/v1/recordings/${r.id}/audio`, duration_seconds: ended!.duration_seconds });
        }
      }
      expect(patches().some((r) => r.path.includes('C-9'))).toBe(false);

      // One analysis per call (billed once), and one execution per ended / analysed session.
      expect([...calls.postCall.analyses.values()].map((a) => a.sessionId).sort()).toEqual([...sessionOf.values()].sort());
      const executions = await waitFor('6 executions finished', async () => {
        const list = await n8n.listExecutions({ workflowId: results.id });
        return list.filter((e) => e.status === 'success').length >= 6 && list;
      });
      expect(executions.filter((e) => e.status !== 'success')).toEqual([]);
      expect(executions).toHaveLength(6);
      await calls.webhooksIdle();
      expect(calls.webhookDeliveries.filter((d) => d.outcome !== 'delivered')).toEqual([]);
      await n8n.deactivate(results.id);
      console.log(`[e2e ${E2E_N8N_VERSION}] campaign results loop: ${((Date.now() - started) / 1000).toFixed(1)} s, ${calls.webhookDeliveries.length} signed deliveries`);
    } finally {
      calls.configureWebhooks(null);
      await calls.close();
    }
  });
});
