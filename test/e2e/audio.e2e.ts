/**
 * E2E: examples/voicemail-translated-note-to-crm.json in a real n8n. A published workflow gets a
 * webhook call naming a voicemail URL, downloads the file (a WAV made by the test: two Spanish
 * "sentences" as tone bursts), streams it through Session → Translate Audio into the sandbox and
 * posts the translated note to a stand-in CRM.
 */
import { createServer, type Server } from 'http';
import type { AddressInfo } from 'net';

import type { N8nInstance } from '../../scripts/n8n/harness';
import { KallglotSandbox } from '../../sandbox';
import { bursts, synthesize, wav } from '../audio/signals';
import { exampleWorkflow, sandboxCredential, startCrm, waitFor } from './helpers/kallglot';
import { E2E_N8N_VERSION, startSignedInN8n, timed } from './helpers/n8n';

describe(`Translate Audio example on n8n ${E2E_N8N_VERSION}`, () => {
  let n8n: N8nInstance;
  let sandbox: KallglotSandbox;
  let crm: Awaited<ReturnType<typeof startCrm>>;
  let files: Server;
  let filesUrl: string;
  // 0.5 s silence, 0.8 s tone, 0.6 s silence, 0.8 s tone, 0.5 s silence at 16 kHz: a 3.2 s voicemail.
  const voicemail = wav([synthesize(bursts(2, 0.8, 0.5, 350, 0.5).map((s, i) => (i === 2 ? { ...s, seconds: 0.6 } : s)), 16000)], 16000);

  beforeAll(async () => {
    sandbox = await KallglotSandbox.start();
    crm = await startCrm();
    files = createServer((req, res) => {
      if (req.url === '/voicemail.wav') res.writeHead(200, { 'content-type': 'audio/wav' }).end(voicemail);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
    n8n = await timed('start n8n', () => startSignedInN8n({ name: 'audio' }));
  });

  afterAll(async () => {
    await n8n?.dispose();
    await sandbox?.close();
    await crm?.close();
    await new Promise<void>((resolve) => {
      files?.close(() => resolve());
      files?.closeAllConnections();
    });
  });

  test('a voicemail URL posted to the webhook becomes one translated note at the CRM', async () => {
    const credential = await sandboxCredential(n8n, sandbox, 'Kallglot account');
    const wf = await n8n.importWorkflow(
      exampleWorkflow('voicemail-translated-note-to-crm.json', { KALLGLOT_CREDENTIAL_ID: credential.id, 'https://crm.example.com/api': crm.url }),
    );
    await timed('publish', () => n8n.activate(wf.id));
    const posted = await n8n.fetch('/webhook/voicemail', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ audio_url: `${filesUrl}/voicemail.wav`, contact_id: 'C-2042' }),
    });
    expect(posted.status).toBe(200);

    const note = await timed('CRM note', () => waitFor('the note at the CRM', () => crm.records.find((r) => r.path === '/api/notes'), 60_000));
    expect(note.body).toMatchObject({ contact_id: 'C-2042', title: 'Translated voicemail', turns: 2, languages: ['es', 'en'] });
    expect(note.body.duration_seconds).toBeCloseTo(3.2, 1);
    const lines = String(note.body.note).split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\[00:00\] Customer \(es\): .+ → \(en\) .+/);
    expect(lines[1]).toMatch(/^\[00:01\] Customer \(es\): /);

    const session = sandbox.sessions.get(note.body.session_id)!;
    expect(session.request).toEqual({ mode: 'bidirectional_translation', target_language: 'en', metadata: { contact_id: 'C-2042', source: 'voicemail' } });
    expect(session.status).toBe('ended');
    expect(sandbox.audioIntake(session.id)).toMatchObject({ chunks: 16, speakers: { customer: 16 }, outOfOrder: 0 });
    expect(crm.records.filter((r) => r.path === '/api/notes')).toHaveLength(1);
    await n8n.deactivate(wf.id);
  });
});
