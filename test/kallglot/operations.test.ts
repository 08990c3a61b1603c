import { searchAgents } from '../../nodes/shared/agents/searchAgents';
import { KallglotSandbox } from '../../sandbox';
import { loadOptionsContext, runKallglotNode } from '../helpers/engine';

let sandbox: KallglotSandbox;
const credentials = () => ({ apiKey: sandbox.apiKey, baseUrl: sandbox.baseUrl });

beforeAll(async () => {
	sandbox = await KallglotSandbox.start({ agents: 150 });
});
afterAll(async () => {
	await sandbox.close();
});
beforeEach(() => sandbox.clearRequests());

async function createSession(): Promise<string> {
	const { items } = await runKallglotNode({
		parameters: { resource: 'session', operation: 'create', mode: 'bidirectional_translation' },
		credentials: credentials(),
	});
	return items?.[0].json.id as string;
}

describe('session operations', () => {
	test('Get returns the session with a fresh stream token', async () => {
		const id = await createSession();
		const { items } = await runKallglotNode({ parameters: { resource: 'session', operation: 'get', sessionId: id }, credentials: credentials() });
		expect(items?.[0].json).toMatchObject({ id, status: 'created', stream: { token: expect.stringMatching(/^kst_/) } });
	});

	test('Dial sends {to} with an Idempotency-Key and returns the call', async () => {
		const id = await createSession();
		const { items } = await runKallglotNode({
			parameters: { resource: 'session', operation: 'dial', sessionId: id, to: '+14155550100', options: { idempotencyKey: 'dial-1' } },
			credentials: credentials(),
		});
		const dial = sandbox.requests.find((r) => r.path === `/v1/sessions/${id}/dial`);
		expect(dial?.body).toEqual({ to: '+14155550100' });
		expect(dial?.headers['idempotency-key']).toBe('dial-1');
		expect(items?.[0].json).toMatchObject({ id, call: { to: '+14155550100' } });
	});

	test('End ends the session, and ending again returns the same summary', async () => {
		const id = await createSession();
		const end = () => runKallglotNode({ parameters: { resource: 'session', operation: 'end', sessionId: id }, credentials: credentials() });
		const first = await end();
		expect(first.items?.[0].json).toMatchObject({ id, status: 'ended' });
		const second = await end();
		expect(second.items?.[0].json).toMatchObject({ id, status: 'ended' });
		expect(sandbox.sessions.get(id)?.status).toBe('ended');
	});

	test('Get Transcript returns the transcript object', async () => {
		const id = await createSession();
		const { items } = await runKallglotNode({
			parameters: { resource: 'session', operation: 'getTranscript', sessionId: id },
			credentials: credentials(),
		});
		expect(items?.[0].json).toMatchObject({ object: 'transcript', session_id: id, turns: [] });
	});
});

describe('Agent → Get Many', () => {
	test('Return All follows the cursor to the last page', async () => {
		const { items } = await runKallglotNode({ parameters: { resource: 'agent', operation: 'getMany', returnAll: true }, credentials: credentials() });
		expect(items).toHaveLength(150);
		expect(new Set(items?.map((i) => i.json.id)).size).toBe(150);
		const pages = sandbox.requests.filter((r) => r.path === '/v1/agents');
		expect(pages.map((p) => p.query)).toEqual([{ limit: '100' }, { limit: '100', starting_after: sandbox.agents[99].id }]);
	});

	test('Limit asks for no more than it needs', async () => {
		const { items } = await runKallglotNode({ parameters: { resource: 'agent', operation: 'getMany', returnAll: false, limit: 3 }, credentials: credentials() });
		expect(items?.map((i) => i.json.id)).toEqual(sandbox.agents.slice(0, 3).map((a) => a.id));
		expect(sandbox.requests.filter((r) => r.path === '/v1/agents').map((r) => r.query)).toEqual([{ limit: '3' }]);
	});

	test('Limit across pages', async () => {
		const { items } = await runKallglotNode({ parameters: { resource: 'agent', operation: 'getMany', returnAll: false, limit: 120 }, credentials: credentials() });
		expect(items?.map((i) => i.json.id)).toEqual(sandbox.agents.slice(0, 120).map((a) => a.id));
		expect(sandbox.requests.filter((r) => r.path === '/v1/agents').map((r) => r.query)).toEqual([
			{ limit: '100' },
			{ limit: '20', starting_after: sandbox.agents[99].id },
		]);
	});
});

describe('Agent list search (resource locator)', () => {
	test('pages with a cursor and filters by name', async () => {
		const ctx = loadOptionsContext({ resource: 'session', operation: 'create', mode: 'ai_agent' }, credentials());
		const first = await searchAgents.call(ctx);
		expect(first.results).toHaveLength(100);
		expect(first.results[0]).toEqual({ name: `${sandbox.agents[0].name} (${sandbox.agents[0].id})`, value: sandbox.agents[0].id });

		const name = sandbox.agents[7].name as string;
		const filtered = await searchAgents.call(ctx, name.toLowerCase());
		expect(filtered.results.map((r) => r.value)).toContain(sandbox.agents[7].id);
		expect(filtered.results.every((r) => r.name.toLowerCase().includes(name.toLowerCase()))).toBe(true);
	});

	test('follows the pagination token', async () => {
		const small = await KallglotSandbox.start({ agents: 150 });
		try {
			const ctx = loadOptionsContext({}, { apiKey: small.apiKey, baseUrl: small.baseUrl });
			const first = await searchAgents.call(ctx);
			expect(first.results).toHaveLength(100);
			expect(first.paginationToken).toBe(small.agents[99].id);
			const second = await searchAgents.call(ctx, undefined, first.paginationToken as string);
			expect(second.results).toHaveLength(50);
			expect(second.paginationToken).toBeUndefined();
		} finally {
			await small.close();
		}
	});
});
