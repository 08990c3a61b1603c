/**
 * "Stream only while active", the call start, a close without session.ended, and
 * paced / burst finals.
 */
import WebSocket from 'ws';
import { KallglotSandbox } from '../../sandbox';

let sandbox: KallglotSandbox;
beforeEach(async () => {
	sandbox = await KallglotSandbox.start({ streamOnlyWhileActive: true });
});
afterEach(async () => {
	await sandbox.close();
});

async function call(method: string, path: string, body?: unknown, base = sandbox.baseUrl) {
	const res = await fetch(`${base}${path}`, {
		method,
		headers: { Authorization: `Bearer ${sandbox.apiKey}`, 'Content-Type': 'application/json' },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	return { status: res.status, json: (await res.json()) as any };
}

function connect(url: string, token: string): Promise<{ ws: WebSocket; frames: any[]; closed: Promise<number> }> {
	return new Promise((resolve, reject) => {
		const ws = new WebSocket(`${url}?token=${token}`);
		const frames: any[] = [];
		const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
		ws.on('message', (data) => frames.push(JSON.parse(String(data))));
		ws.once('open', () => resolve({ ws, frames, closed }));
		ws.once('error', reject);
	});
}

const until = async (check: () => boolean, ms = 5000) => {
	const deadline = Date.now() + ms;
	while (!check()) {
		if (Date.now() > deadline) throw new Error('timed out');
		await new Promise((r) => setTimeout(r, 5));
	}
};

test('GET shows `stream` only once the call started; the control endpoint starts it', async () => {
	const created = await call('POST', '/sessions', { mode: 'bidirectional_translation' });
	expect(created.json.stream).toMatchObject({ token: expect.any(String) }); // create still returns one
	const before = await call('GET', `/sessions/${created.json.id}`);
	expect(before.json.status).toBe('created');
	expect(before.json.stream).toBeUndefined();
	const started = await call('POST', `/sessions/${created.json.id}/start`, {}, sandbox.controlUrl);
	expect(started.json).toEqual({ id: created.json.id, status: 'active' });
	const after = await call('GET', `/sessions/${created.json.id}`);
	expect(after.json.status).toBe('active');
	expect(after.json.stream).toMatchObject({ url: expect.any(String), token: expect.any(String) });
	sandbox.endSession(created.json.id);
	expect((await call('GET', `/sessions/${created.json.id}`)).json.stream).toBeUndefined();
});

test('end with announce:false closes the stream with 1000 and no session.ended frame', async () => {
	const created = await call('POST', '/sessions', { mode: 'bidirectional_translation' });
	const { frames, closed } = await connect(created.json.stream.url, created.json.stream.token);
	await until(() => frames.length === 1);
	await call('POST', `/sessions/${created.json.id}/end`, { reason: 'hangup', announce: false }, sandbox.controlUrl);
	expect(await closed).toBe(1000);
	expect(frames.map((f) => f.type)).toEqual(['session.ready']);
});

test('finals: a burst held while nobody listens, delivered at once with growing sequences', async () => {
	const created = await call('POST', '/sessions', { mode: 'bidirectional_translation' });
	const sending = sandbox.sendFinals(created.json.id, { count: 50 });
	const { frames, ws } = await connect(created.json.stream.url, created.json.stream.token);
	await sending;
	await until(() => frames.length === 51);
	const finals = frames.filter((f) => f.type === 'transcript.final');
	expect(finals.map((f) => f.sequence)).toEqual(Array.from({ length: 50 }, (_, k) => k + 1));
	expect(sandbox.sessions.get(created.json.id)!.transcript).toHaveLength(50);
	ws.close();
});

test('finals over the control endpoint: paced, then the session ends', async () => {
	const created = await call('POST', '/sessions', { mode: 'bidirectional_translation' });
	const { frames } = await connect(created.json.stream.url, created.json.stream.token);
	const res = await call('POST', `/sessions/${created.json.id}/finals`, { count: 3, intervalMs: 5, endWhenDone: true }, sandbox.controlUrl);
	expect(res.status).toBe(202);
	await until(() => frames.some((f) => f.type === 'session.ended'));
	expect(frames.filter((f) => f.type === 'transcript.final').map((f) => f.sequence)).toEqual([1, 2, 3]);
	expect((await call('POST', `/sessions/${created.json.id}/finals`, { count: 0 }, sandbox.controlUrl)).status).toBe(409);
});
