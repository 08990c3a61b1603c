/** Recording → Get Many / Get / Download through n8n-core's WorkflowExecute against the sandbox. */
import type { IBinaryData } from 'n8n-workflow';

import { fileNameFromContentDisposition, mimeTypeOf } from '../../nodes/shared/recordings';
import { KallglotSandbox } from '../../sandbox';
import { FakeClock } from '../helpers/clock';
import { runKallglotNode } from '../helpers/engine';

let sandbox: KallglotSandbox;
/** The sandbox's recording processing runs on it: a recording is ready once the test moves it on. */
let clock: FakeClock;
const credentials = () => ({ apiKey: sandbox.apiKey, baseUrl: sandbox.baseUrl });
const PROCESSING_MS = 50;

afterEach(async () => {
	await sandbox?.close();
});

async function start(recordingProcessingMs = PROCESSING_MS): Promise<void> {
	clock = new FakeClock();
	sandbox = await KallglotSandbox.start({ recordingProcessingMs, processingNow: () => clock.now() });
}

/** A session created by the node with `recording` settings, its scripted call played, then ended. */
async function recordedCall(recording: Record<string, unknown> = {}): Promise<string> {
	const { items, error } = await runKallglotNode({
		parameters: {
			resource: 'session',
			operation: 'create',
			mode: 'bidirectional_translation',
			recording: { enabled: true, ...recording },
		},
		credentials: credentials(),
	});
	if (error) throw error;
	const id = items?.[0].json.id as string;
	await sandbox.play(id, { intervalMs: 0, waitForListener: false, endWhenDone: true });
	return id;
}

const recordingsOf = (sessionId: string) => sandbox.postCall.recordingsOf(sessionId);
/** Moves the sandbox's clock through the processing time: processing until its last ms, then every channel file has `status`. */
async function processed(sessionId: string, status: 'ready' | 'failed'): Promise<void> {
	const statuses = () => recordingsOf(sessionId).map((r) => r.status);
	expect(statuses().length).toBeGreaterThan(0);
	await clock.advance(PROCESSING_MS - 1);
	expect(new Set(statuses())).toEqual(new Set(['processing']));
	await clock.advance(1);
	expect(new Set(statuses())).toEqual(new Set([status]));
}
const ready = (sessionId: string) => processed(sessionId, 'ready');

/** What the sandbox itself serves for a recording. */
async function served(recordingId: string) {
	const res = await fetch(`${sandbox.baseUrl}/recordings/${recordingId}/audio`, { headers: { authorization: `Bearer ${sandbox.apiKey}` } });
	return { bytes: Buffer.from(await res.arrayBuffer()), type: res.headers.get('content-type'), disposition: res.headers.get('content-disposition') };
}

const audioRequests = () => sandbox.requests.filter((r) => r.path.endsWith('/audio'));

describe('Recording → Get Many and Get', () => {
	test('Get Many returns one item per channel of a dual-channel session; Get returns one', async () => {
		await start();
		const sessionId = await recordedCall();
		await ready(sessionId);
		const { items } = await runKallglotNode({
			parameters: { resource: 'recording', operation: 'getMany', sessionId },
			input: [{ json: { n: 0 } }],
			credentials: credentials(),
		});
		expect(items?.map((i) => i.json.channel).sort()).toEqual(['agent', 'customer']);
		expect(items?.every((i) => i.json.session_id === sessionId && i.json.status === 'ready')).toBe(true);
		expect(items?.map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 0 }]);

		const id = items?.[0].json.id as string;
		const got = await runKallglotNode({ parameters: { resource: 'recording', operation: 'get', recordingId: id }, credentials: credentials() });
		expect(got.items?.[0].json).toMatchObject({ id, object: 'recording', status: 'ready', format: 'wav' });
	});

	test('Get Many of a session without recordings returns no items, not an error', async () => {
		await start();
		const { items: created } = await runKallglotNode({
			parameters: { resource: 'session', operation: 'create', mode: 'bidirectional_translation' },
			credentials: credentials(),
		});
		const { items, error } = await runKallglotNode({
			parameters: { resource: 'recording', operation: 'getMany', sessionId: created?.[0].json.id as string },
			credentials: credentials(),
		});
		expect(error).toBeUndefined();
		expect(items).toEqual([]);
	});
});

describe('Recording → Download', () => {
	test('the audio as binary: the bytes, file name and MIME type the sandbox serves', async () => {
		await start();
		const sessionId = await recordedCall({ mixMode: 'mixed' });
		await ready(sessionId);
		const [recording] = recordingsOf(sessionId);
		const { items, error } = await runKallglotNode({
			parameters: { resource: 'recording', operation: 'download', recordingId: recording.id, binaryPropertyName: 'audio' },
			input: [{ json: { contact: 'c_1' } }],
			credentials: credentials(),
		});
		expect(error).toBeUndefined();
		const item = items![0];
		expect(item.pairedItem).toEqual({ item: 0 });
		expect(item.json).toMatchObject({ id: recording.id, status: 'ready', channel: 'mixed' });
		const binary = item.binary?.audio as IBinaryData;
		const expected = await served(recording.id);
		expect(expected.bytes.length).toBeGreaterThan(44);
		expect(Buffer.from(binary.data, 'base64').equals(expected.bytes)).toBe(true);
		expect(binary.fileName).toBe(`recording-${sessionId}-mixed.wav`);
		expect(expected.disposition).toContain(binary.fileName);
		expect(binary.mimeType).toBe('audio/wav');
		expect(binary.fileExtension).toBe('wav');
	});

	test('the binary property name defaults to data', async () => {
		await start();
		const sessionId = await recordedCall();
		await ready(sessionId);
		const { items } = await runKallglotNode({
			parameters: { resource: 'recording', operation: 'download', recordingId: recordingsOf(sessionId)[0].id },
			credentials: credentials(),
		});
		expect(Object.keys(items?.[0].binary ?? {})).toEqual(['data']);
	});

	test('a recording still processing: a clear error before any download is tried', async () => {
		await start(60 * 60 * 1000);
		const sessionId = await recordedCall();
		const [recording] = recordingsOf(sessionId);
		const { error } = await runKallglotNode({
			parameters: { resource: 'recording', operation: 'download', recordingId: recording.id },
			credentials: credentials(),
		});
		expect(error?.message).toBe(`Kallglot recording ${recording.id} is not ready yet (status "processing")`);
		expect(error?.description).toMatch(/still processing.*Run again shortly/);
		expect(audioRequests()).toHaveLength(0);
	});

	test('a failed recording: says it has no file, before any download is tried', async () => {
		await start();
		sandbox.postCall.failNext('recordings', 2);
		const sessionId = await recordedCall();
		await processed(sessionId, 'failed');
		const [recording] = recordingsOf(sessionId);
		const { error } = await runKallglotNode({
			parameters: { resource: 'recording', operation: 'download', recordingId: recording.id },
			credentials: credentials(),
		});
		expect(error?.message).toBe(`Kallglot recording ${recording.id} failed: recording_processing_failed: The recording could not be processed.`);
		expect(error?.description).toMatch(/no file to download/);
		expect(audioRequests()).toHaveLength(0);
	});

	test('the audio endpoint answering 409 recording_not_ready: Kallglot code, message and request id, not retried', async () => {
		await start();
		const sessionId = await recordedCall();
		await ready(sessionId);
		const [recording] = recordingsOf(sessionId);
		// The metadata says ready, the file is not served yet (Kallglot's side may lag behind).
		sandbox.injectFault({ method: 'GET', path: `/v1/recordings/${recording.id}/audio`, status: 409, code: 'recording_not_ready', retryAfter: 1 });
		const { error } = await runKallglotNode({
			parameters: { resource: 'recording', operation: 'download', recordingId: recording.id },
			credentials: credentials(),
		});
		expect(error?.name).toBe('NodeApiError');
		expect(error?.httpCode).toBe('409');
		expect(error?.message).toMatch(/^Kallglot 409 recording_not_ready: /);
		expect(error?.description).toMatch(/still processing.*Run again shortly/);
		expect(error?.description).toMatch(/request ID: req_/);
		expect(audioRequests()).toHaveLength(1);
	});

	test('withheld for missing consent: 403 recording_consent_required says what to do', async () => {
		await start();
		const sessionId = await recordedCall({ consentRequired: true, consentState: 'denied' });
		await ready(sessionId);
		const [recording] = recordingsOf(sessionId);
		const { error } = await runKallglotNode({
			parameters: { resource: 'recording', operation: 'download', recordingId: recording.id },
			credentials: credentials(),
		});
		expect(error?.name).toBe('NodeApiError');
		expect(error?.httpCode).toBe('403');
		expect(error?.message).toMatch(/^Kallglot 403 recording_consent_required: /);
		expect(error?.description).toMatch(/withholds this recording until the caller’s consent is granted/);
		expect(error?.description).toMatch(/request ID: req_/);
		expect(JSON.stringify(error)).not.toContain(sandbox.apiKey);
		expect(audioRequests()).toHaveLength(1);
	});

	test('a 503 on the audio is retried like a JSON request, then the file arrives', async () => {
		await start();
		const sessionId = await recordedCall();
		await ready(sessionId);
		const [recording] = recordingsOf(sessionId);
		sandbox.injectFault({ method: 'GET', path: `/v1/recordings/${recording.id}/audio`, status: 503, retryAfter: 0 });
		const { items, error } = await runKallglotNode({
			parameters: { resource: 'recording', operation: 'download', recordingId: recording.id },
			credentials: credentials(),
		});
		expect(error).toBeUndefined();
		expect(audioRequests().map((r) => r.status)).toEqual([503, 200]);
		const expected = await served(recording.id);
		expect(Buffer.from((items?.[0].binary?.data as IBinaryData).data, 'base64').equals(expected.bytes)).toBe(true);
	});

	test('continueOnFail: each item gets its own result or error, paired to its input', async () => {
		await start();
		const sessionId = await recordedCall();
		await ready(sessionId);
		const [recording] = recordingsOf(sessionId);
		const { items } = await runKallglotNode({
			parameters: { resource: 'recording', operation: 'download', recordingId: '={{ $json.id }}' },
			input: [{ json: { id: 'rec_unknown0' } }, { json: { id: recording.id } }, { json: { id: 'not-a-recording' } }],
			continueOnFail: true,
			credentials: credentials(),
		});
		expect(items?.map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		expect(items?.[0].json.error).toMatch(/Kallglot 404 recording_not_found/);
		expect(items?.[1].binary?.data).toBeDefined();
		expect(items?.[2].json.error).toMatch(/Invalid Recording ID "not-a-recording": must be a recording id starting with rec_/);
	});
});

describe('validation sends nothing', () => {
	beforeEach(async () => {
		await start();
	});

	test.each([
		[{ operation: 'getMany', sessionId: 'rec_123' }, /Invalid Session ID "rec_123": must be a session id starting with sess_/],
		[{ operation: 'get', recordingId: 'sess_1' }, /Invalid Recording ID "sess_1": must be a recording id starting with rec_/],
		[{ operation: 'download', recordingId: 'anl_1' }, /Invalid Recording ID "anl_1"/],
		[{ operation: 'download', recordingId: 'rec_1', binaryPropertyName: 'my file' }, /Invalid Put Output File in Field "my file": must be one word/],
	])('%j', async (parameters, message) => {
		sandbox.clearRequests();
		const { error } = await runKallglotNode({ parameters: { resource: 'recording', ...parameters }, credentials: credentials() });
		expect(error?.name).toBe('NodeOperationError');
		expect(error?.message).toMatch(message);
		expect(error?.description).toMatch(/Nothing was sent to Kallglot/);
		expect(sandbox.requests).toHaveLength(0);
	});
});

describe('header parsing', () => {
	test.each([
		['attachment; filename="recording-sess_1-agent.wav"', 'recording-sess_1-agent.wav'],
		['attachment; filename=plain.mp3', 'plain.mp3'],
		[`attachment; filename="fallback.wav"; filename*=UTF-8''Gr%C3%BC%C3%9Fe%20call.wav`, 'Grüße call.wav'],
		['attachment; filename="../../etc/passwd"', 'passwd'],
		['attachment; filename="a\\"b.wav"', 'a"b.wav'],
		['attachment', undefined],
		[undefined, undefined],
	])('Content-Disposition %j → %j', (value, name) => {
		expect(fileNameFromContentDisposition(value)).toBe(name);
	});

	test.each([
		['audio/wav', null, 'audio/wav'],
		['audio/mpeg; charset=binary', null, 'audio/mpeg'],
		[undefined, 'mp3', 'audio/mpeg'],
		[undefined, 'wav', 'audio/wav'],
		['nonsense', null, 'application/octet-stream'],
	])('Content-Type %j (format %j) → %j', (type, format, mime) => {
		expect(mimeTypeOf(type, format)).toBe(mime);
	});
});
