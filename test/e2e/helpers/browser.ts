/**
 * Chromium (Debian's, /usr/bin/chromium: `apt-get update && apt-get install -y chromium`)
 * driven by playwright-core against a harness-started n8n. Only 127.0.0.1 is reachable from
 * the page: every other request is aborted (and listed, never treated as an error).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { chromium, type BrowserContext, type ConsoleMessage, type Locator, type Page } from 'playwright-core';

import type { N8nInstance } from '../../../scripts/n8n/harness';
import { E2E_N8N_VERSION, SCREENSHOT_DIR } from './n8n';

export const CHROMIUM_PATH = process.env.E2E_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface EditorSession {
  context: BrowserContext;
  page: Page;
  /** Console errors, page errors and failed local requests: the test fails on any. */
  problems: string[];
  /** Requests to anything but the n8n under test (aborted). */
  blockedExternal: string[];
  signedIn: boolean;
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Launches Chromium with an empty user-data-dir and records what goes wrong on the page. */
export async function openEditor(n8n: N8nInstance): Promise<EditorSession> {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'n8n-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
  });
  // playwright-core has no test runner: without this an action on a missing element waits forever.
  context.setDefaultTimeout(30_000);
  const page = context.pages()[0] ?? (await context.newPage());
  const session: EditorSession = {
    context,
    page,
    problems: [],
    blockedExternal: [],
    signedIn: false,
    async screenshot(name) {
      fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
      const file = path.join(SCREENSHOT_DIR, `${E2E_N8N_VERSION}-${name}.png`);
      await page.screenshot({ path: file });
      return file;
    },
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };

  const local = (url: string) => url.startsWith(n8n.baseUrl) || url.startsWith('data:') || url.startsWith('blob:');
  await context.route(
    (url) => !local(url.href),
    (route) => {
      session.blockedExternal.push(route.request().url());
      return route.abort('blockedbyclient');
    },
  );

  page.on('console', (msg: ConsoleMessage) => {
    if (msg.type() !== 'error') return;
    const where = msg.location()?.url ?? '';
    const text = msg.text();
    // Before sign-in the editor probes GET /rest/login and gets 401: expected.
    if (!session.signedIn && /status of 401/.test(text) && /\/rest\/login/.test(where + text)) return;
    // Our own aborts of external requests.
    if (/ERR_BLOCKED_BY_CLIENT|ERR_FAILED/.test(text) && !local(where)) return;
    if (/ERR_BLOCKED_BY_CLIENT/.test(text)) return;
    session.problems.push(`console.error: ${text}${where ? ` (at ${where})` : ''}`);
  });
  // Leaving a panel with unsaved edits: let the navigation go on.
  page.on('dialog', (d) => void (d.type() === 'beforeunload' ? d.accept() : d.dismiss()).catch(() => {}));
  page.on('pageerror', (err) => session.problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => {
    if (!local(req.url())) return;
    // A navigation cancels the previous page's in-flight requests: not a failure.
    if (req.failure()?.errorText === 'net::ERR_ABORTED') return;
    session.problems.push(`request failed: ${req.method()} ${req.url()} (${req.failure()?.errorText})`);
  });
  page.on('response', (res) => {
    const url = res.url();
    if (!local(url) || res.status() < 400) return;
    if (!session.signedIn && res.status() === 401 && /\/rest\/login$/.test(url)) return;
    session.problems.push(`HTTP ${res.status()} for ${res.request().method()} ${url}`);
  });
  return session;
}

/** Signs in through the editor's form (/signin). */
export async function signIn(session: EditorSession, n8n: N8nInstance): Promise<void> {
  const { page } = session;
  await page.goto(`${n8n.baseUrl}/signin`);
  await page.locator('[data-test-id="emailOrLdapLoginId"] input').fill(n8n.owner.email);
  await page.locator('[data-test-id="password"] input').fill(n8n.owner.password);
  const login = page.waitForResponse((r) => r.url() === `${n8n.baseUrl}/rest/login` && r.request().method() === 'POST');
  await page.locator('[data-test-id="form-submit-button"]').click();
  const res = await login;
  if (res.status() !== 200) throw new Error(`sign-in failed: POST /rest/login -> ${res.status()} ${await res.text()}`);
  session.signedIn = true;
  await page.waitForURL((u) => !u.pathname.startsWith('/signin'), { timeout: 30_000 });
}

/** <img> elements on the page whose src points at our package's icons, with their load state. */
export async function ourIcons(page: Page): Promise<Array<{ src: string; complete: boolean; naturalWidth: number }>> {
  return page.evaluate(() =>
    Array.from(document.images)
      .filter((i) => i.src.includes('/icons/n8n-nodes-kallglot/'))
      .map((i) => ({ src: i.src, complete: i.complete, naturalWidth: i.naturalWidth })),
  );
}

/** Clicks an n8n select (its `parameter-input-<name>` wrapper) and picks the option whose title is `option`. */
export async function selectOption(page: Page, scope: Locator, parameter: string, option: string): Promise<void> {
  await scope.locator(`[data-test-id="parameter-input-${parameter}"]`).click();
  // An option is its title plus its description (no whitespace between them in textContent).
  const item = page.locator('.el-select-dropdown__item:visible').filter({ has: page.getByText(option, { exact: true }) }).first();
  await item.waitFor({ state: 'visible', timeout: 10_000 });
  await item.click();
  await item.waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => {});
}

/** Opens a canvas node's parameter panel (NDV) by double-click; returns the `node-parameters` locator. */
export async function openNode(page: Page, nodeName: string): Promise<Locator> {
  await page.locator('[data-test-id="canvas-node"]', { hasText: nodeName }).first().dblclick();
  const ndv = page.locator('[data-test-id="ndv"]');
  await ndv.waitFor({ state: 'visible', timeout: 30_000 });
  const params = ndv.locator('[data-test-id="node-parameters"]');
  await params.waitFor({ state: 'visible', timeout: 30_000 });
  return params;
}

/** Closes the parameter panel. */
export async function closeNode(page: Page): Promise<void> {
  await page.locator('[data-test-id="ndv-close-button"]').click();
  await page.locator('[data-test-id="ndv"]').waitFor({ state: 'hidden', timeout: 10_000 });
}

/**
 * The parameter names rendered in a panel: every `parameter-input-<name>`, `fixed-collection-<name>`
 * and `resource-locator-<name>` (n8n's own test ids; `field` is n8n's inner input, not a parameter).
 */
export async function renderedParameters(scope: Locator): Promise<string[]> {
  const names = await scope.evaluate((el) =>
    Array.from(el.querySelectorAll('[data-test-id]'))
      .map((e) => e.getAttribute('data-test-id') || '')
      .map((id) => /^(?:parameter-input|fixed-collection|resource-locator)-(.+)$/.exec(id)?.[1] ?? '')
      .filter((n) => n && !['field', 'item', 'add', 'delete'].includes(n)),
  );
  return [...new Set(names)];
}

/** The values of the inputs and text areas inside `scope` (what a user sees typed in the fields). */
export async function inputValues(scope: Locator): Promise<string[]> {
  return scope.evaluateAll((elements) =>
    elements.flatMap((el) => Array.from(el.querySelectorAll('input, textarea')).map((i) => (i as HTMLInputElement).value)).filter((v) => v !== ''),
  );
}

/** Visible labels of the panel's parameters (n8n's label text, first line only). */
export async function parameterLabels(scope: Locator): Promise<string[]> {
  const labels = await scope.locator('[data-test-id="parameter-item"] label').allInnerTexts();
  return [...new Set(labels.map((l) => l.split('\n')[0].trim()).filter(Boolean))];
}

/**
 * n8n's markers that a parameter did not render or is invalid: `parameter-issues` icons (with their
 * tooltip text when n8n exposes it) and the texts n8n shows for an unknown parameter or option.
 */
export async function parameterProblems(scope: Locator): Promise<string[]> {
  const issues = scope.locator('[data-test-id="parameter-issues"]');
  const problems: string[] = [];
  for (let i = 0; i < (await issues.count()); i++) {
    const item = issues.nth(i).locator('xpath=ancestor::*[@data-test-id="parameter-item"][1]');
    const label = (await item.count()) ? (await item.locator('label').first().innerText().catch(() => '')).split('\n')[0] : '?';
    problems.push(`issue marker on parameter "${label.trim()}"`);
  }
  const text = await scope.innerText();
  for (const re of [/parameter .{0,60} (?:not found|could not be found)/i, /could not (?:find|load) (?:the )?parameter/i, /is not supported/i, /Unknown (?:parameter|type)/i]) {
    const m = re.exec(text);
    if (m) problems.push(`n8n says: ${m[0]}`);
  }
  return problems;
}

/** Polls `read` until `done(value)` holds or `timeoutMs` passes; returns the last value read. */
export async function settle<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * parameterProblems once the panel has settled: n8n recomputes issue markers after every
 * re-render (e.g. a field that has just appeared is briefly "required and empty" on a busy
 * machine), so a marker must persist for the whole wait to count.
 */
export async function settledProblems(scope: Locator, timeoutMs = 15_000): Promise<string[]> {
  return await settle(() => parameterProblems(scope), (problems) => problems.length === 0, timeoutMs);
}
