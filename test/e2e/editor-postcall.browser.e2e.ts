/**
 * E2E (real n8n + Chromium): the panels of the recording and analysis operations. A workflow
 * holds one Kallglot node per new operation; each panel shows its own fields (and only those),
 * with no issue marker, and Max Wait appears only with Wait for Completion. Fails on console
 * errors or failed requests. Screenshots: test-artifacts/screenshots/.
 *
 * Needs Debian's Chromium, like editor.browser.e2e.ts (skipped without it outside CI).
 */
import { randomUUID } from 'crypto';
import * as fs from 'fs';

import type { N8nInstance } from '../../scripts/n8n/harness';
import { KallglotSandbox } from '../../sandbox';
import {
  CHROMIUM_PATH,
  closeNode,
  openEditor,
  openNode,
  parameterLabels,
  settle,
  settledProblems,
  signIn,
  type EditorSession,
} from './helpers/browser';
import { CREDENTIAL_TYPE, E2E_N8N_VERSION, inCI, NODE_TYPES, startSignedInN8n, timed } from './helpers/n8n';

interface Panel {
  node: string;
  parameters: Record<string, unknown>;
  shows: string[];
  hides: string[];
}

const OWN_FIELDS = ['Session ID', 'Recording ID', 'Put Output File in Field', 'Analysis ID', 'Profile', 'Include', 'Wait for Completion', 'Max Wait'];
const panel = (node: string, parameters: Record<string, unknown>, shows: string[]): Panel => ({
  node,
  parameters,
  shows,
  hides: OWN_FIELDS.filter((f) => !shows.includes(f)),
});

const PANELS: Panel[] = [
  panel('Get Many Recordings', { resource: 'recording', operation: 'getMany', sessionId: 'sess_e2e1' }, ['Session ID']),
  panel('Get Recording', { resource: 'recording', operation: 'get', recordingId: 'rec_e2e1' }, ['Recording ID']),
  panel('Download Recording', { resource: 'recording', operation: 'download', recordingId: 'rec_e2e1' }, ['Recording ID', 'Put Output File in Field']),
  panel('Analyze (No Wait)', { resource: 'analysis', operation: 'create', sessionId: 'sess_e2e1' }, ['Session ID', 'Profile', 'Include', 'Wait for Completion']),
  panel(
    'Analyze and Wait',
    { resource: 'analysis', operation: 'create', sessionId: 'sess_e2e1', include: ['summary', 'sentiment'], waitForCompletion: true },
    ['Session ID', 'Profile', 'Include', 'Wait for Completion', 'Max Wait'],
  ),
  panel('Get Analysis', { resource: 'analysis', operation: 'get', analysisId: 'anl_e2e1' }, ['Analysis ID']),
];

const hasChromium = fs.existsSync(CHROMIUM_PATH);
const describeBrowser = hasChromium || inCI ? describe : describe.skip;
if (!hasChromium) {
  console.warn(`[e2e] post-call editor checks ${inCI ? 'FAIL' : 'SKIPPED'}: no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium)`);
}

describeBrowser(`n8n ${E2E_N8N_VERSION} editor: recording and analysis panels`, () => {
  let n8n: N8nInstance;
  let sandbox: KallglotSandbox;
  let editor: EditorSession;
  let workflowId: string;

  beforeAll(async () => {
    if (!hasChromium) throw new Error(`no Chromium at ${CHROMIUM_PATH}: apt-get update && apt-get install -y chromium`);
    n8n = await timed('start n8n for the editor (post-call)', () => startSignedInN8n({ name: 'editor-postcall' }));
    sandbox = await KallglotSandbox.start();
    const credential = await n8n.createCredential(CREDENTIAL_TYPE, { apiKey: sandbox.apiKey, baseUrl: sandbox.baseUrl }, { name: 'Kallglot sandbox' });
    const wf = await n8n.importWorkflow({
      name: 'e2e: post-call panels',
      nodes: PANELS.map((p, i) => ({
        id: randomUUID(),
        name: p.node,
        type: NODE_TYPES.action,
        typeVersion: 1,
        position: [(i % 3) * 300, Math.floor(i / 3) * 200] as [number, number],
        parameters: p.parameters,
        credentials: { [CREDENTIAL_TYPE]: { id: String(credential.id), name: credential.name } },
      })),
      connections: {},
      settings: { executionOrder: 'v1' },
    });
    workflowId = wf.id;
    editor = await openEditor(n8n);
    await signIn(editor, n8n);
  });

  afterAll(async () => {
    await editor?.close();
    await n8n?.dispose();
    await sandbox?.close();
  });

  test.each(PANELS.map((p) => [p.node, p] as const))('%s: its own fields, no other operation\'s, no issue marker', async (_name, p) => {
    const { page } = editor;
    await page.goto(`${n8n.baseUrl}/workflow/${workflowId}`);
    await page.locator('[data-test-id="canvas-node"]').first().waitFor({ timeout: 60_000 });
    await page.waitForLoadState('networkidle');
    const params = await openNode(page, p.node);
    const labels = await settle(
      () => parameterLabels(params),
      (now) => p.shows.every((l) => now.includes(l)) && p.hides.every((l) => !now.includes(l)),
    );
    const where = `${p.node}: labels [${labels.join(', ')}]`;
    expect({ where, missing: p.shows.filter((l) => !labels.includes(l)) }).toEqual({ where, missing: [] });
    expect({ where, unexpected: p.hides.filter((l) => labels.includes(l)) }).toEqual({ where, unexpected: [] });
    expect({ where, problems: await settledProblems(params) }).toEqual({ where, problems: [] });
    await editor.screenshot(`postcall-${p.node.toLowerCase().replace(/\W+/g, '-').replace(/-$/, '')}`);
    await closeNode(page);
  });

  test('no console errors, page errors or failed requests', () => {
    expect(editor.problems).toEqual([]);
  });
});
