/**
 * E2E: post-call operations in a real n8n against the Kallglot sandbox. One manual workflow takes
 * an ended, recorded session and (1) downloads its recording as binary data, read back by n8n's
 * own Extract From File node, and (2) creates an analysis and waits for it to complete.
 */
import { randomUUID } from 'crypto';

import type { N8nInstance } from '../../scripts/n8n/harness';
import { KallglotSandbox } from '../../sandbox';
import { kallglotNode, sandboxCredential, waitFor, type CredentialRef } from './helpers/kallglot';
import { E2E_N8N_VERSION, manualTriggerNode, NODE_TYPES, setNode, startSignedInN8n, timed } from './helpers/n8n';

describe(`Kallglot recordings and analysis on n8n ${E2E_N8N_VERSION}`, () => {
  let n8n: N8nInstance;
  let sandbox: KallglotSandbox;
  let credential: CredentialRef;

  beforeAll(async () => {
    sandbox = await KallglotSandbox.start({ recordingProcessingMs: 200, analysisProcessingMs: 1500 });
    n8n = await timed('start n8n', () => startSignedInN8n({ name: 'postcall' }));
    credential = await sandboxCredential(n8n, sandbox);
  });

  afterAll(async () => {
    await n8n?.dispose();
    await sandbox?.close();
  });

  /** An ended session with recording on (mixed: one file), its scripted call played. */
  async function recordedCall(): Promise<{ sessionId: string; recordingId: string }> {
    const res = await fetch(`${sandbox.baseUrl}/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sandbox.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'bidirectional_translation', recording: { enabled: true, mix_mode: 'mixed' } }),
    });
    const session = (await res.json()) as { id: string };
    await sandbox.play(session.id, { intervalMs: 0, waitForListener: false, endWhenDone: true });
    const recording = await waitFor('the recording to be ready', () =>
      sandbox.postCall.recordingsOf(session.id).find((r) => r.status === 'ready'),
    );
    return { sessionId: session.id, recordingId: recording.id };
  }

  test('Download Recording gives n8n binary data with the served bytes; Create Analysis waits for the result', async () => {
    const { sessionId, recordingId } = await recordedCall();
    const node = (name: string, position: [number, number], parameters: Record<string, unknown>) =>
      kallglotNode(NODE_TYPES.action, name, position, credential, parameters);
    const wf = await n8n.importWorkflow({
      name: 'e2e: recording and analysis',
      nodes: [
        manualTriggerNode(),
        setNode('Call', [220, 0], { sessionId, recordingId }),
        node('Download Recording', [440, -120], {
          resource: 'recording',
          operation: 'download',
          recordingId: '={{ $json.recordingId }}',
          binaryPropertyName: 'audio',
        }),
        {
          id: randomUUID(),
          name: 'Audio as Base64',
          type: 'n8n-nodes-base.extractFromFile',
          typeVersion: 1,
          position: [660, -120],
          parameters: { operation: 'binaryToPropery', binaryPropertyName: 'audio', destinationKey: 'base64' },
        },
        node('Analyze Call', [440, 120], {
          resource: 'analysis',
          operation: 'create',
          sessionId: '={{ $json.sessionId }}',
          include: ['summary', 'sentiment'],
          waitForCompletion: true,
          maxWaitSeconds: 120,
          options: { idempotencyKey: "={{ 'e2e-analysis-' + $json.sessionId }}" },
        }),
      ],
      connections: {
        Manual: { main: [[{ node: 'Call', type: 'main', index: 0 }]] },
        Call: {
          main: [
            [
              { node: 'Download Recording', type: 'main', index: 0 },
              { node: 'Analyze Call', type: 'main', index: 0 },
            ],
          ],
        },
        'Download Recording': { main: [[{ node: 'Audio as Base64', type: 'main', index: 0 }]] },
      },
      settings: { executionOrder: 'v1' },
    });

    const execution = await timed('manual run (download + analysis)', () => n8n.runWorkflow(wf.id, { timeoutMs: 180_000 }));
    expect(execution.status).toBe('success');
    const runData = execution.data!.resultData.runData;

    const served = await fetch(`${sandbox.baseUrl}/recordings/${recordingId}/audio`, { headers: { authorization: `Bearer ${sandbox.apiKey}` } });
    const bytes = Buffer.from(await served.arrayBuffer());
    const downloaded = runData['Download Recording'][0].data!.main[0]![0] as { json: Record<string, any>; binary?: Record<string, unknown> };
    expect(downloaded.json).toMatchObject({ id: recordingId, status: 'ready', channel: 'mixed' });
    expect(downloaded.binary?.audio).toMatchObject({
      fileName: `recording-${sessionId}-mixed.wav`,
      mimeType: 'audio/wav',
      fileExtension: 'wav',
    });
    const extracted = runData['Audio as Base64'][0].data!.main[0]![0].json;
    expect(Buffer.from(String(extracted.base64), 'base64').equals(bytes)).toBe(true);

    const analysis = runData['Analyze Call'][0].data!.main[0]![0].json;
    expect(analysis).toMatchObject({ session_id: sessionId, status: 'completed' });
    expect(analysis.summary).toBeTruthy();
    expect(analysis.sentiment).toBeTruthy();
    const creates = sandbox.requests.filter((r) => r.method === 'POST' && r.path === `/v1/sessions/${sessionId}/analysis`);
    expect(creates).toHaveLength(1);
    expect(creates[0].headers['idempotency-key']).toBe(`e2e-analysis-${sessionId}`);
    expect(sandbox.postCall.analyses.size).toBe(1);
  });
});
