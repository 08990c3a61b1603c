/**
 * Stopping a campaign stops dialing: a campaign (Create Session + Dial per contact) runs on
 * n8n-core's real WorkflowExecute against the sandbox; the execution is cancelled as n8n's Stop
 * button (or its timeout) does. Nothing reaches Kallglot after the stop, a wait in progress ends
 * at once, and the node says how many items were done.
 */
import { contactIds, startCampaign } from '../helpers/campaign';
import { KallglotSandbox } from '../../sandbox';
import { Kallglot } from '../../nodes/Kallglot/Kallglot.node';

let sandbox: KallglotSandbox;
afterEach(async () => {
	await sandbox?.close();
});

const billable = () => sandbox.requests.filter((r) => r.method === 'POST' && (r.path === '/v1/sessions' || r.path.endsWith('/dial')));

/** Resolves once `condition` holds (checked every 5 ms; the test's own timeout bounds it). */
async function until(condition: () => boolean): Promise<void> {
	while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

// n8n cuts a request in flight at the stop (its HTTP helper carries the cancel signal): when the
// stop lands before the node has read the last answer, that item is not counted as done.
test('stopped during a rate-limit wait: the wait ends at once, nothing more is sent, the node says how many of 10 items were done', async () => {
	// 3 requests per 25 s: after 3 sessions the 4th waits ~25 s for the window (under the 60 s the node
	// holds). Were the wait not ended by the stop, the test would time out (30 s) before the run ends.
	sandbox = await KallglotSandbox.start({ rateLimit: { limit: 3, windowMs: 25_000 } });
	const run = startCampaign(new Kallglot(), { apiKey: sandbox.apiKey, baseUrl: sandbox.baseUrl }, 10, 'stop');
	await until(() => billable().filter((r) => r.status === 201).length === 3);
	const sentBeforeStop = sandbox.requests.length;
	run.cancel();
	const result = await run.done;

	expect(sandbox.requests.slice(sentBeforeStop)).toEqual([]);
	expect(billable()).toHaveLength(3);
	expect(sandbox.requests.filter((r) => r.status === 429)).toEqual([]);
	const error = result.data.resultData.runData['Create Session']?.[0]?.error;
	expect(error?.message).toMatch(/^Stopped after [23] of 10 items: the execution was cancelled, so nothing more was sent to Kallglot$/);
	expect(result.data.resultData.runData.Dial).toBeUndefined();
	// The sessions created before the stop carry the first three contacts.
	const created = [...sandbox.sessions.values()].map((s) => (s.metadata as Record<string, unknown>).contact_id).sort();
	expect(created).toEqual(contactIds('stop', 3));
});

test('stopped while dialing: no Create Session or Dial after the stop; the items done are counted', async () => {
	sandbox = await KallglotSandbox.start({ rateLimit: { limit: 4, windowMs: 20_000 } });
	// 2 contacts: 2 creates, then the Dial node spends the window's 2 left and waits for the next.
	const run = startCampaign(new Kallglot(), { apiKey: sandbox.apiKey, baseUrl: sandbox.baseUrl }, 3, 'dial');
	await until(() => billable().filter((r) => r.path.endsWith('/dial') && r.status === 200).length === 1);
	const sentBeforeStop = sandbox.requests.length;
	run.cancel();
	const result = await run.done;

	expect(sandbox.requests.slice(sentBeforeStop)).toEqual([]);
	const error = result.data.resultData.runData.Dial?.[0]?.error;
	expect(error?.message).toMatch(/^Stopped after [01] of 3 items/);
	// One dial, answered; the second was waiting for the window when the stop came.
	expect(billable().filter((r) => r.path.endsWith('/dial'))).toHaveLength(1);
});
