/** Analysis → Create (idempotent, billed once, Wait for Completion) and Get, on the real engine. */
import { DEFAULT_POLL, pollDelayMs } from '../../nodes/shared/analyses';
import { KallglotSandbox, type SandboxOptions } from '../../sandbox';
import { FakeClock, stepToEnd } from '../helpers/clock';
import { runKallglotNode } from '../helpers/engine';

let sandbox: KallglotSandbox;
const credentials = () => ({ apiKey: sandbox.apiKey, baseUrl: sandbox.baseUrl });
/** An analysis that never finishes while a test runs. */
const NEVER = 24 * 60 * 60 * 1000;

afterEach(async () => {
	await sandbox?.close();
});

async function start(options: SandboxOptions = {}): Promise<void> {
	sandbox = await KallglotSandbox.start({ analysisProcessingMs: 50, ...options });
}

/** A session with the scripted call played into its transcript, then ended. */
async function endedCall(): Promise<string> {
	const { items, error } = await runKallglotNode({
		parameters: { resource: 'session', operation: 'create', mode: 'bidirectional_translation' },
		credentials: credentials(),
	});
	if (error) throw error;
	const id = items?.[0].json.id as string;
	await sandbox.play(id, { intervalMs: 0, waitForListener: false, endWhenDone: true });
	return id;
}

const createRequests = (sessionId: string) =>
	sandbox.requests.filter((r) => r.method === 'POST' && r.path === `/v1/sessions/${sessionId}/analysis`);
const polls = () => sandbox.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/v1/analyses/'));
/** Fake time of the Wait for Completion tests: the node's waits and the sandbox's processing run on it. */
const NOW = Date.UTC(2026, 11, 1, 19, 12, 18, 500);

/**
 * Analysis → Create with Wait for Completion on `clock`, its waits fired one by one; `sentAt`: when
 * each analysis request (create, polls) went out, on that clock (time moves only between them).
 */
async function waitOnClock(clock: FakeClock, sessionId: string, parameters: Record<string, unknown>) {
	sandbox.clearRequests();
	const sentAt: number[] = [];
	const run = runKallglotNode({
		parameters: { resource: 'analysis', operation: 'create', sessionId, waitForCompletion: true, ...parameters },
		credentials: credentials(),
		clock,
	});
	const { result, waits } = await stepToEnd(clock, run, () => {
		for (let i = sentAt.length; i < sandbox.requests.length; i++) sentAt.push(clock.now());
	});
	if (result.status === 'rejected') throw result.reason;
	return { ...result.value, waits, sentAt };
}

const create = (parameters: Record<string, unknown>, extra: { input?: any[]; continueOnFail?: boolean } = {}) =>
	runKallglotNode({ parameters: { resource: 'analysis', operation: 'create', ...parameters }, credentials: credentials(), ...extra });

describe('Analysis → Create', () => {
	test('sends profile and include, returns the processing analysis (202) without waiting', async () => {
		await start({ analysisProcessingMs: NEVER });
		const sessionId = await endedCall();
		const { items, error } = await create({ sessionId, profile: 'sales', include: ['summary', 'sentiment'] });
		expect(error).toBeUndefined();
		expect(items?.[0].json).toMatchObject({ object: 'analysis', session_id: sessionId, status: 'processing', id: expect.stringMatching(/^anl_/) });
		const [request] = createRequests(sessionId);
		expect(request.body).toEqual({ profile: 'sales', include: ['summary', 'sentiment'] });
		expect(request.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
		expect(polls()).toHaveLength(0);
	});

	test('no Include selected sends no include (Kallglot’s default set)', async () => {
		await start();
		const sessionId = await endedCall();
		await create({ sessionId });
		expect(createRequests(sessionId)[0].body).toEqual({ profile: 'default' });
	});

	test('Include from an expression may be comma-separated text', async () => {
		await start();
		const sessionId = await endedCall();
		const { error } = await create({ sessionId, include: '={{ "summary, keywords" }}' });
		expect(error).toBeUndefined();
		expect(createRequests(sessionId)[0].body).toEqual({ profile: 'default', include: ['summary', 'keywords'] });
	});

	test('the same Idempotency Key twice: one analysis, billed once', async () => {
		await start();
		const sessionId = await endedCall();
		const before = sandbox.creditsUsed;
		const run = () => create({ sessionId, include: ['summary'], options: { idempotencyKey: 'crm-42-analysis' } });
		const first = await run();
		const second = await run();
		expect(second.items?.[0].json.id).toBe(first.items?.[0].json.id);
		expect(sandbox.postCall.analyses.size).toBe(1);
		expect(sandbox.creditsUsed - before).toBe(1);
		expect(createRequests(sessionId).map((r) => r.headers['idempotency-key'])).toEqual(['crm-42-analysis', 'crm-42-analysis']);
	});

	test('a lost response is retried with the same key: still one analysis, billed once', async () => {
		await start();
		const sessionId = await endedCall();
		const before = sandbox.creditsUsed;
		sandbox.injectFault({ method: 'POST', path: `/v1/sessions/${sessionId}/analysis`, status: 503, when: 'after', retryAfter: 0 });
		const { items, error } = await create({ sessionId });
		expect(error).toBeUndefined();
		const keys = createRequests(sessionId).map((r) => r.headers['idempotency-key']);
		expect(keys).toHaveLength(2);
		expect(new Set(keys).size).toBe(1);
		expect(sandbox.postCall.analyses.size).toBe(1);
		expect(items?.[0].json.id).toBe([...sandbox.postCall.analyses.keys()][0]);
		expect(sandbox.creditsUsed - before).toBe(1);
	});

	test('a session still running: Kallglot’s 409 session_not_ended says to end it first', async () => {
		await start();
		const { items } = await runKallglotNode({
			parameters: { resource: 'session', operation: 'create', mode: 'bidirectional_translation' },
			credentials: credentials(),
		});
		const { error } = await create({ sessionId: items?.[0].json.id as string });
		expect(error?.message).toMatch(/^Kallglot 409 session_not_ended: /);
		expect(error?.description).toMatch(/End it first \(Session → End\)/);
		expect(sandbox.postCall.analyses.size).toBe(0);
	});
});

describe('Wait for Completion (the node and the sandbox on one fake clock: exact steps)', () => {
	const startOnClock = async (options: SandboxOptions) => {
		const clock = new FakeClock(NOW);
		await start({ ...options, processingNow: () => clock.now() });
		return clock;
	};

	test('returns the completed analysis with the requested parts in one node, at the first poll', async () => {
		const clock = await startOnClock({ analysisProcessingMs: 50 });
		const sessionId = await endedCall();
		const { items, error, waits, sentAt } = await waitOnClock(clock, sessionId, { include: ['summary', 'sentiment'], maxWaitSeconds: 60 });
		expect(error).toBeUndefined();
		expect(items?.[0].json).toMatchObject({
			session_id: sessionId,
			status: 'completed',
			created_at: new Date(NOW).toISOString(),
			completed_at: new Date(NOW + 50).toISOString(),
		});
		expect(items?.[0].json.summary).toBeTruthy();
		expect(items?.[0].json.sentiment).toBeTruthy();
		expect(items?.[0].pairedItem).toEqual({ item: 0 });
		expect(waits).toEqual([DEFAULT_POLL.firstDelayMs]);
		expect(sentAt).toEqual([NOW, NOW + 1000]);
		expect(polls().map((r) => r.status)).toEqual([200]);
	});

	test('an analysis that completes between polls is seen at the next poll of the schedule', async () => {
		const clock = await startOnClock({ analysisProcessingMs: 1001 });
		const sessionId = await endedCall();
		const { items, error, waits, sentAt } = await waitOnClock(clock, sessionId, { maxWaitSeconds: 60 });
		expect(error).toBeUndefined();
		expect(items?.[0].json).toMatchObject({ status: 'completed', completed_at: new Date(NOW + 1001).toISOString() });
		expect(waits).toEqual([1000, 1500]);
		expect(sentAt).toEqual([NOW, NOW + 1000, NOW + 2500]);
	});

	test('a never-completing analysis: bounded by Max Wait, a clear error with the analysis ID, polls on the schedule', async () => {
		const clock = await startOnClock({ analysisProcessingMs: NEVER });
		const sessionId = await endedCall();
		const { error, waits, sentAt } = await waitOnClock(clock, sessionId, { maxWaitSeconds: 3 });
		const [analysisId] = [...sandbox.postCall.analyses.keys()];
		expect(error?.name).toBe('NodeOperationError');
		expect(error?.message).toBe(`Analysis ${analysisId} is still processing after the Max Wait of 3 s`);
		expect(error?.description).toMatch(new RegExp(`Analysis → Get and the ID ${analysisId}`));
		expect(error?.description).toMatch(/billed\) once/);
		// The schedule: 1 s, then 1.5 s, then what is left of the 3 s; the last poll at the deadline.
		expect(waits).toEqual([pollDelayMs(0, 3000), pollDelayMs(1, 2000), pollDelayMs(2, 500)]);
		expect(waits).toEqual([1000, 1500, 500]);
		expect(sentAt).toEqual([NOW, NOW + 1000, NOW + 2500, NOW + 3000]);
		expect(polls().map((r) => r.status)).toEqual([200, 200, 200]);
		expect(clock.now()).toBe(NOW + 3000);
		expect(sandbox.postCall.analyses.size).toBe(1);
	});

	test('a 429 while polling is waited out (Retry-After) and the wait goes on', async () => {
		const clock = await startOnClock({ analysisProcessingMs: 50 });
		const sessionId = await endedCall();
		sandbox.injectFault({ method: 'GET', path: /^\/v1\/analyses\//, status: 429, retryAfter: 1 });
		const { items, error, waits, sentAt } = await waitOnClock(clock, sessionId, { maxWaitSeconds: 60 });
		expect(error).toBeUndefined();
		expect(items?.[0].json.status).toBe('completed');
		expect(polls().map((r) => r.status)).toEqual([429, 200]);
		expect(waits).toEqual([1000, 1000]); // the first pause, then Retry-After: 1
		expect(sentAt).toEqual([NOW, NOW + 1000, NOW + 2000]);
	});

	test('a Retry-After beyond the Max Wait ends the wait instead of overrunning it', async () => {
		const clock = await startOnClock({ analysisProcessingMs: NEVER });
		const sessionId = await endedCall();
		sandbox.injectFault({ method: 'GET', path: /^\/v1\/analyses\//, status: 429, retryAfter: 3600, times: 10 });
		const { error, waits, sentAt } = await waitOnClock(clock, sessionId, { maxWaitSeconds: 2 });
		expect(error?.message).toMatch(/still processing after the Max Wait of 2 s \(Kallglot's rate limit stopped the polling\)/);
		expect(polls().map((r) => r.status)).toEqual([429]);
		expect(waits).toEqual([1000]);
		expect(sentAt).toEqual([NOW, NOW + 1000]);
	});

	test('a failed analysis: an error with Kallglot’s reason', async () => {
		const clock = await startOnClock({ analysisProcessingMs: 50 });
		const sessionId = await endedCall();
		sandbox.postCall.failNext('analyses', 1);
		const { error, waits } = await waitOnClock(clock, sessionId, { maxWaitSeconds: 60 });
		expect(error?.message).toMatch(/^Kallglot analysis anl_\w+ failed: analysis_failed: /);
		expect(waits).toEqual([1000]);
	});

	test('the poll schedule backs off and never passes the deadline', () => {
		const delays = [0, 1, 2, 3, 4, 5, 6, 7].map((n) => pollDelayMs(n, Infinity));
		expect(delays.slice(0, 3)).toEqual([1000, 1500, 2250]);
		expect(delays.every((d, i) => i === 0 || d >= delays[i - 1])).toBe(true);
		expect(Math.max(...delays)).toBe(DEFAULT_POLL.maxDelayMs);
		expect(pollDelayMs(6, 400)).toBe(400);
		expect(pollDelayMs(0, -5)).toBe(0);
	});
});

describe('Analysis → Get', () => {
	test('returns the analysis as Kallglot has it', async () => {
		await start({ analysisProcessingMs: NEVER });
		const sessionId = await endedCall();
		const { items: created } = await create({ sessionId });
		const id = created?.[0].json.id as string;
		const { items } = await runKallglotNode({ parameters: { resource: 'analysis', operation: 'get', analysisId: id }, credentials: credentials() });
		expect(items?.[0].json).toMatchObject({ id, status: 'processing', session_id: sessionId });
	});

	test('an unknown analysis: 404 analysis_not_found', async () => {
		await start();
		const { error } = await runKallglotNode({
			parameters: { resource: 'analysis', operation: 'get', analysisId: 'anl_missing0' },
			credentials: credentials(),
		});
		expect(error?.message).toMatch(/^Kallglot 404 analysis_not_found/);
		expect(error?.description).toMatch(/IDs start with anl_/);
	});
});

describe('validation sends nothing', () => {
	beforeEach(async () => {
		await start();
	});

	test.each([
		[{ operation: 'create', sessionId: 'anl_1' }, /Invalid Session ID "anl_1": must be a session id starting with sess_/],
		[{ operation: 'create', sessionId: 'sess_1', include: ['summary', 'mood'] }, /Invalid Include › 1 "mood"/],
		[{ operation: 'create', sessionId: 'sess_1', profile: '  ' }, /Invalid Profile " {2}": must not be empty/],
		[{ operation: 'create', sessionId: 'sess_1', waitForCompletion: true, maxWaitSeconds: 0 }, /Invalid Max Wait 0: must be between 1 and 900 seconds/],
		[{ operation: 'create', sessionId: 'sess_1', waitForCompletion: true, maxWaitSeconds: 5000 }, /Invalid Max Wait 5000/],
		[{ operation: 'get', analysisId: 'rec_1' }, /Invalid Analysis ID "rec_1": must be an analysis id starting with anl_/],
	])('%j', async (parameters, message) => {
		sandbox.clearRequests();
		const { error } = await runKallglotNode({ parameters: { resource: 'analysis', ...parameters }, credentials: credentials() });
		expect(error?.name).toBe('NodeOperationError');
		expect(error?.message).toMatch(message);
		expect(error?.description).toMatch(/Nothing was sent to Kallglot/);
		expect(sandbox.requests).toHaveLength(0);
	});

	test('continueOnFail: a bad item fails alone, the others are analysed', async () => {
		const sessionId = await endedCall();
		sandbox.clearRequests();
		const { items } = await create(
			{ sessionId: '={{ $json.sessionId }}' },
			{ input: [{ json: { sessionId } }, { json: { sessionId: 'nope' } }], continueOnFail: true },
		);
		expect(items?.map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
		expect(items?.[0].json.status).toBe('processing');
		expect(items?.[1].json.error).toMatch(/Invalid Session ID "nope"/);
		expect(createRequests(sessionId)).toHaveLength(1);
	});
});
