/**
 * Stopping a campaign stops dialing: a campaign (Create Session + Dial per contact) runs on
 * n8n-core's real WorkflowExecute against the sandbox; the execution is cancelled as n8n's Stop
 * button (or its timeout) does. The node's waits and the sandbox's limiter share one fake clock, so
 * the stop lands during a known wait: nothing reaches Kallglot after it, the execution ends with no
 * time passing, and the node says how many items were done.
 */
import type { IRun } from 'n8n-workflow';

import { contactIds, startCampaign, type CampaignRun } from '../helpers/campaign';
import { kallglotOnClock } from '../helpers/engine';
import { FakeClock, until } from '../helpers/clock';
import { KallglotSandbox } from '../../sandbox';

const START = Date.UTC(2026, 11, 1, 19, 12, 18, 437);

let sandbox: KallglotSandbox;
let clock: FakeClock;
afterEach(async () => {
	await sandbox?.close();
});

const billable = () => sandbox.requests.filter((r) => r.method === 'POST' && (r.path === '/v1/sessions' || r.path.endsWith('/dial')));
const dials = () => billable().filter((r) => r.path.endsWith('/dial'));

/** A campaign of `contacts` on the fake clock, against a sandbox whose limiter reads the same clock. */
async function campaign(rateLimit: { limit: number; windowMs: number }, contacts: number, prefix: string): Promise<CampaignRun> {
	clock = new FakeClock(START);
	sandbox = await KallglotSandbox.start({ rateLimit: { ...rateLimit, now: () => clock.now() } });
	return startCampaign(kallglotOnClock(clock), { apiKey: sandbox.apiKey, baseUrl: sandbox.baseUrl }, contacts, prefix);
}

/**
 * Fires the node's waits one by one until it is parked on one (nothing in flight) with `condition`
 * holding; that wait's length.
 */
async function parkedWhen(condition: () => boolean): Promise<number> {
	for (;;) {
		await until(() => clock.pending > 0);
		if (condition()) return clock.delays[0];
		await clock.fireNext();
	}
}

/** Stops the run as n8n's Stop does; its run data once it has ended, which it must do with no time passing. */
async function stop(run: CampaignRun): Promise<IRun> {
	const at = clock.now();
	const sent = sandbox.requests.length;
	run.cancel();
	const result = await run.done; // never settles if the wait is not ended by the stop (the test times out)
	expect(clock.now()).toBe(at);
	expect(clock.pending).toBe(0);
	expect(sandbox.requests.slice(sent)).toEqual([]);
	return result;
}

const stoppedAfter = (done: number, total: number) =>
	`Stopped after ${done} of ${total} items: the execution was cancelled, so nothing more was sent to Kallglot`;

test('stopped during a paced wait: the wait ends at once, nothing more is sent, the node says 3 of 10 items were done', async () => {
	// 3 requests per 25 s: the 3 sessions fill the window, and the 4th waits for its end (under the 60 s the node holds).
	const run = await campaign({ limit: 3, windowMs: 25_000 }, 10, 'stop');
	expect(await parkedWhen(() => billable().length === 3)).toBe(25_000);
	const result = await stop(run);

	expect(billable().map((r) => r.status)).toEqual([201, 201, 201]);
	expect(sandbox.requests.filter((r) => r.status === 429)).toEqual([]);
	const error = result.data.resultData.runData['Create Session']?.[0]?.error;
	expect(error?.message).toBe(stoppedAfter(3, 10));
	expect(result.data.resultData.runData.Dial).toBeUndefined();
	// The sessions created before the stop carry the first three contacts.
	const created = [...sandbox.sessions.values()].map((s) => (s.metadata as Record<string, unknown>).contact_id).sort();
	expect(created).toEqual(contactIds('stop', 3));
});

test('stopped during a Retry-After wait: no retry, the node says 3 of 10 items were done', async () => {
	const run = await campaign({ limit: 3, windowMs: 25_000 }, 10, 'retry');
	expect(await parkedWhen(() => billable().length === 3)).toBe(25_000);
	// Kallglot refuses the 4th create when the window has ended (as when another execution took it), asking for 30 s.
	sandbox.injectFault({ path: '/v1/sessions', status: 429, code: 'rate_limit_exceeded', retryAfter: 30 });
	expect(await parkedWhen(() => billable().length === 4)).toBe(30_000);
	expect(clock.now()).toBe(START + 25_000);
	const result = await stop(run);

	expect(billable().map((r) => r.status)).toEqual([201, 201, 201, 429]);
	expect(result.data.resultData.runData['Create Session']?.[0]?.error?.message).toBe(stoppedAfter(3, 10));
	expect(result.data.resultData.runData.Dial).toBeUndefined();
	expect(sandbox.sessions.size).toBe(3);
});

test('stopped while dialing: no Create Session or Dial after the stop; the items done are counted', async () => {
	// 4 requests per 20 s: 3 creates and the first dial spend the window; the second dial waits for its end.
	const run = await campaign({ limit: 4, windowMs: 20_000 }, 3, 'dial');
	expect(await parkedWhen(() => dials().length === 1)).toBe(20_000);
	const result = await stop(run);

	expect(result.data.resultData.runData.Dial?.[0]?.error?.message).toBe(stoppedAfter(1, 3));
	expect(billable().map((r) => [r.path.endsWith('/dial') ? 'dial' : 'create', r.status])).toEqual([
		['create', 201],
		['create', 201],
		['create', 201],
		['dial', 200],
	]);
});
