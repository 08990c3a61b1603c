/** Post-call side of the sandbox: recordings with real WAV audio, and analyses. */
import { KallglotSandbox, SANDBOX_AGENT_ID, type SandboxOptions } from '../../sandbox';
import { synthesizeRecording, type SpokenTurn } from '../../sandbox/wav';
import { api, createSession, eventually } from './test-helpers';

let sb: KallglotSandbox;

afterEach(async () => {
	await sb?.close();
});

/** Fast enough for tests, slow enough that `processing` is observable. */
const FAST: SandboxOptions = { recordingProcessingMs: 150, analysisProcessingMs: 150 };
const WAIT_MS = 15_000;

/**
 * A session with `body`, the scripted call played into its transcript, then ended. `intervalMs`
 * paces the frames: the recording lasts as long as the call did.
 */
async function endedCall(body: Record<string, unknown>, intervalMs = 0): Promise<string> {
	const { json: session } = await createSession(sb, body);
	await sb.play(session.id, { intervalMs, waitForListener: false, endWhenDone: true });
	expect(sb.sessions.get(session.id)?.status).toBe('ended');
	return session.id;
}

/** Frames 25 ms apart: every turn lasts at least 25 ms, a few hundred samples to measure. */
const PACED_MS = 25;

const recorded = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
	mode: 'ai_agent',
	ai_agent: { agent_id: SANDBOX_AGENT_ID },
	recording: { enabled: true, ...extra },
	metadata: { campaign: 'spring-2027', contact_id: 'c_1' },
});

async function audio(recordingId: string, apiKey = sb.apiKey): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
	const res = await fetch(`${sb.baseUrl}/recordings/${recordingId}/audio`, { headers: { authorization: `Bearer ${apiKey}` } });
	return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

async function readyRecordings(sessionId: string): Promise<any[]> {
	let list: any[] = [];
	await eventually(
		() => {
			list = sb.postCall.recordingsOf(sessionId).map((r) => r.status);
			return list.length > 0 && list.every((s) => s === 'ready');
		},
		WAIT_MS,
		'recordings ready',
	);
	return (await api(sb, 'GET', `/sessions/${sessionId}/recordings`)).json.data;
}

interface ParsedWav {
	format: number;
	channels: number;
	sampleRate: number;
	byteRate: number;
	blockAlign: number;
	bitsPerSample: number;
	samples: Int16Array;
}

/** A strict RIFF/WAVE reader: walks the chunks instead of assuming the 44-byte layout. */
function parseWav(bytes: Buffer): ParsedWav {
	expect(bytes.toString('ascii', 0, 4)).toBe('RIFF');
	expect(bytes.readUInt32LE(4)).toBe(bytes.length - 8);
	expect(bytes.toString('ascii', 8, 12)).toBe('WAVE');
	let offset = 12;
	let fmt: Omit<ParsedWav, 'samples'> | undefined;
	let samples: Int16Array | undefined;
	while (offset + 8 <= bytes.length) {
		const id = bytes.toString('ascii', offset, offset + 4);
		const size = bytes.readUInt32LE(offset + 4);
		const body = offset + 8;
		expect(body + size).toBeLessThanOrEqual(bytes.length);
		if (id === 'fmt ') {
			fmt = {
				format: bytes.readUInt16LE(body),
				channels: bytes.readUInt16LE(body + 2),
				sampleRate: bytes.readUInt32LE(body + 4),
				byteRate: bytes.readUInt32LE(body + 8),
				blockAlign: bytes.readUInt16LE(body + 12),
				bitsPerSample: bytes.readUInt16LE(body + 14),
			};
		} else if (id === 'data') {
			samples = new Int16Array(size / 2);
			for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(body + i * 2);
		}
		offset = body + size + (size % 2);
	}
	if (fmt === undefined || samples === undefined) throw new Error('WAV without fmt or data chunk');
	return { ...fmt, samples };
}

/** RMS (0..1) of samples [from, to) seconds. */
function rms(wav: ParsedWav, fromSeconds: number, toSeconds: number): number {
	const from = Math.floor(fromSeconds * wav.sampleRate);
	const to = Math.min(wav.samples.length, Math.floor(toSeconds * wav.sampleRate));
	let sum = 0;
	for (let i = from; i < to; i++) sum += (wav.samples[i] / 32768) ** 2;
	return Math.sqrt(sum / Math.max(1, to - from));
}

/** Where each transcript turn sits on the call's time line: from the previous final to its own. */
async function turnWindows(sessionId: string): Promise<Array<{ speaker: string; words: number; start: number; end: number }>> {
	const session = (await api(sb, 'GET', `/sessions/${sessionId}`)).json;
	const transcript = (await api(sb, 'GET', `/sessions/${sessionId}/transcript`)).json;
	const startedAt = Date.parse(session.started_at);
	let previous = 0;
	return transcript.turns.map((turn: any) => {
		const end = (Date.parse(turn.timestamp) - startedAt) / 1000;
		const window = { speaker: turn.speaker, words: turn.text.split(' ').length, start: previous, end };
		previous = end;
		return window;
	});
}

/**
 * A stretch inside a turn's speech, however long a busy machine made the turn: speech ends with
 * the final and covers at least the last 80% of the turn's time, or its words' 0.4 s each.
 */
function speechOf({ words, start, end }: { words: number; start: number; end: number }): [number, number] {
	const speech = Math.min(0.8 * (end - start), 0.4 * words);
	return [end - 0.8 * speech, end - 0.2 * speech];
}

describe('recordings', () => {
	beforeEach(async () => {
		sb = await KallglotSandbox.start(FAST);
	});

	it('a dual-channel recorded session has no recordings until it ends, then one per channel, processing first', async () => {
		const { json: session } = await createSession(sb, recorded());
		expect((await api(sb, 'GET', `/sessions/${session.id}/recordings`)).json).toEqual({ object: 'list', data: [], has_more: false });

		expect((await api(sb, 'POST', `/sessions/${session.id}/end`)).status).toBe(200);
		const list = await api(sb, 'GET', `/sessions/${session.id}/recordings`);
		expect(list.status).toBe(200);
		expect(list.json.data.map((r: any) => r.channel)).toEqual(['agent', 'customer']);
		for (const r of list.json.data) {
			expect(r).toMatchObject({ object: 'recording', session_id: session.id, status: 'processing', download_url: null, format: 'wav' });
			expect(r.id).toMatch(/^rec_[A-Z0-9]{26}$/);
		}

		const notReady = await audio(list.json.data[0].id);
		expect(notReady.status).toBe(409);
		const envelope = JSON.parse(notReady.bytes.toString('utf8'));
		expect(envelope.error).toMatchObject({ code: 'recording_not_ready', request_id: expect.stringMatching(/^req_/) });
		expect(Number(notReady.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
	});

	it('turns ready with Kallglot’s recording fields, and GET /v1/recordings/{id} agrees with the list', async () => {
		const sessionId = await endedCall(recorded(), PACED_MS);
		const [agent] = await readyRecordings(sessionId);
		expect(agent).toEqual({
			id: expect.stringMatching(/^rec_/),
			object: 'recording',
			session_id: sessionId,
			channel: 'agent',
			status: 'ready',
			duration: expect.any(Number),
			format: 'wav',
			size: expect.any(Number),
			sample_rate: 8000,
			bit_depth: 16,
			download_url: `/v1/recordings/${agent.id}/audio`,
			created_at: expect.any(String),
			expires_at: expect.any(String),
		});
		expect(agent.duration).toBeGreaterThan(0);
		expect(Date.parse(agent.expires_at)).toBeGreaterThan(Date.parse(agent.created_at));
		expect((await api(sb, 'GET', `/recordings/${agent.id}`)).json).toEqual(agent);
	});

	it('a recording lasts exactly as long as the call: the duration_seconds of /end and the transcript', async () => {
		const sessionId = await endedCall(recorded(), PACED_MS);
		const recordings = await readyRecordings(sessionId);
		const callSeconds = (await api(sb, 'POST', `/sessions/${sessionId}/end`)).json.duration_seconds;
		expect(callSeconds).toBeGreaterThan(0);
		expect((await api(sb, 'GET', `/sessions/${sessionId}/transcript`)).json.metadata.duration_seconds).toBe(callSeconds);
		const bytes = 44 + Math.round(callSeconds * 8000) * 2;
		expect(recordings.map((r) => [r.duration, r.size])).toEqual([
			[callSeconds, bytes],
			[callSeconds, bytes],
		]);
	});

	it('serves each channel as a playable 8 kHz 16-bit mono PCM WAV with the speaker on its own channel, each turn where the call had it', async () => {
		const sessionId = await endedCall(recorded(), PACED_MS);
		const recordings = await readyRecordings(sessionId);
		const turns = await turnWindows(sessionId);
		for (const recording of recordings) {
			const res = await audio(recording.id);
			expect(res.status).toBe(200);
			expect(res.headers.get('content-type')).toBe('audio/wav');
			expect(res.headers.get('content-disposition')).toBe(
				`attachment; filename="recording-${sessionId}-${recording.channel}.wav"`,
			);
			expect(res.bytes.length).toBe(recording.size);
			const wav = parseWav(res.bytes);
			expect(wav).toMatchObject({ format: 1, channels: 1, sampleRate: 8000, byteRate: 16000, blockAlign: 2, bitsPerSample: 16 });
			expect(wav.samples.length / wav.sampleRate).toBeCloseTo(recording.duration, 3);

			// Every turn of this channel's speaker is heard in its time, every other turn is silence.
			for (const turn of turns) {
				if (turn.speaker === recording.channel) expect(rms(wav, ...speechOf(turn))).toBeGreaterThan(0.05);
				else expect(rms(wav, ...speechOf(turn))).toBeLessThan(0.001);
			}
		}
		// The two channels differ: two voices, not one file twice.
		const [a, b] = await Promise.all(recordings.map((r) => audio(r.id)));
		expect(a.bytes.equals(b.bytes)).toBe(false);
	});

	it('a mixed recording is one file with both parties', async () => {
		const sessionId = await endedCall(recorded({ mix_mode: 'mixed' }), PACED_MS);
		const [mixed, ...rest] = await readyRecordings(sessionId);
		expect(rest).toEqual([]);
		expect(mixed.channel).toBe('mixed');
		const wav = parseWav((await audio(mixed.id)).bytes);
		for (const turn of await turnWindows(sessionId)) expect(rms(wav, ...speechOf(turn))).toBeGreaterThan(0.05);
	});

	it('places a turn at the end of its time, after a lead-in, no longer than its words take to say', () => {
		// 2 words (0.8 s of speech) given 3 s: silence, then the words, ending when the final came.
		const turns: SpokenTurn[] = [
			{ speaker: 'customer', text: 'Hello there', startSeconds: 0, endSeconds: 3 },
			{ speaker: 'agent', text: 'Hi', startSeconds: 3, endSeconds: 3.5 },
		];
		const wav = parseWav(synthesizeRecording(turns, 'mixed', 4));
		expect(wav.samples.length).toBe(4 * 8000);
		expect(rms(wav, 0, 2.15)).toBe(0);
		expect(rms(wav, 2.3, 2.9)).toBeGreaterThan(0.05);
		// Short turn: 0.1 s lead-in (a fifth of its 0.5 s), then speech until its end.
		expect(rms(wav, 3, 3.09)).toBe(0);
		expect(rms(wav, 3.15, 3.45)).toBeGreaterThan(0.05);
		expect(rms(wav, 3.5, 4)).toBe(0);
		// The same turns and timing always give the same bytes.
		expect(synthesizeRecording(turns, 'mixed', 4).equals(synthesizeRecording(turns, 'mixed', 4))).toBe(true);
	});

	it('a session without recording.enabled leaves no recordings', async () => {
		const sessionId = await endedCall({ mode: 'bidirectional_translation' });
		expect((await api(sb, 'GET', `/sessions/${sessionId}/recordings`)).json.data).toEqual([]);
		expect(sb.postCall.recordings.size).toBe(0);
	});

	it.each([
		['denied', 403],
		['not_required', 403],
		[undefined, 403],
		['granted', 200],
	])('with consent_required and consent_state %s the download answers %i', async (consentState, status) => {
		const extra = { consent_required: true, ...(consentState !== undefined ? { consent_state: consentState } : {}) };
		const sessionId = await endedCall(recorded(extra));
		const [recording] = await readyRecordings(sessionId);
		const res = await audio(recording.id);
		expect(res.status).toBe(status);
		if (status === 403) {
			expect(JSON.parse(res.bytes.toString('utf8')).error).toMatchObject({
				type: 'permission_error',
				code: 'recording_consent_required',
				message: expect.stringContaining('consent'),
			});
		}
	});

	it('refuses consent before readiness: a withheld recording says so while still processing', async () => {
		const { json: session } = await createSession(sb, recorded({ consent_required: true, consent_state: 'denied' }));
		await api(sb, 'POST', `/sessions/${session.id}/end`);
		const [recording] = sb.postCall.recordingsOf(session.id);
		expect(recording.status).toBe('processing');
		expect((await audio(recording.id)).status).toBe(403);
	});

	it('hides recordings from other keys and answers unknown ids 404', async () => {
		await sb.close();
		sb = await KallglotSandbox.start({ ...FAST, apiKeys: ['sk_test_one', 'sk_test_two'] });
		const sessionId = await endedCall(recorded());
		const [recording] = await readyRecordings(sessionId);
		expect((await api(sb, 'GET', `/recordings/${recording.id}`, { apiKey: 'sk_test_two' })).status).toBe(404);
		expect((await audio(recording.id, 'sk_test_two')).status).toBe(404);
		expect((await api(sb, 'GET', `/sessions/${sessionId}/recordings`, { apiKey: 'sk_test_two' })).status).toBe(404);
		const unknown = await api(sb, 'GET', '/recordings/rec_NOPE');
		expect(unknown.status).toBe(404);
		expect(unknown.json.error.code).toBe('recording_not_found');
		expect((await audio('rec_NOPE')).status).toBe(404);
	});

	it('a failed recording (control fault) has an error and no audio', async () => {
		const fault = await fetch(`${sb.controlUrl}/post-call-faults`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ failRecordings: 1 }),
		});
		expect(fault.status).toBe(201);
		const sessionId = await endedCall(recorded());
		await eventually(() => sb.postCall.recordingsOf(sessionId).every((r) => r.status !== 'processing'), WAIT_MS, 'processed');
		const list = (await api(sb, 'GET', `/sessions/${sessionId}/recordings`)).json.data;
		expect(list.map((r: any) => r.status)).toEqual(['failed', 'ready']);
		expect(list[0]).toMatchObject({ download_url: null, error: { code: 'recording_processing_failed' } });
		const res = await audio(list[0].id);
		expect(res.status).toBe(409);
		expect(JSON.parse(res.bytes.toString('utf8')).error.code).toBe('recording_failed');
	});

	it('rejects a malformed post-call fault', async () => {
		const res = await fetch(`${sb.controlUrl}/post-call-faults`, { method: 'POST', body: JSON.stringify({ failRecordings: -1 }) });
		expect(res.status).toBe(400);
	});
});

describe('analyses', () => {
	beforeEach(async () => {
		sb = await KallglotSandbox.start({ ...FAST, credits: 10 });
	});

	async function completed(analysisId: string): Promise<any> {
		await eventually(() => sb.postCall.analyses.get(analysisId)?.status !== 'processing', WAIT_MS, 'analysis done');
		return (await api(sb, 'GET', `/analyses/${analysisId}`)).json;
	}

	it('POST answers 202 processing and costs one credit; GET turns completed with every part', async () => {
		const sessionId = await endedCall(recorded());
		const before = sb.credits;
		const res = await api(sb, 'POST', `/sessions/${sessionId}/analysis`, { body: {} });
		expect(res.status).toBe(202);
		expect(res.json).toMatchObject({ object: 'analysis', session_id: sessionId, status: 'processing', summary: null, completed_at: null });
		expect(res.json.id).toMatch(/^anl_[A-Z0-9]{26}$/);
		expect(sb.credits).toBe(before - 1);
		expect(res.headers.get('x-api-credits-remaining')).toBe(String(before - 1));

		const processing = await api(sb, 'GET', `/analyses/${res.json.id}`);
		expect(processing.json.status === 'processing' || processing.json.status === 'completed').toBe(true);

		const done = await completed(res.json.id);
		expect(done).toMatchObject({
			id: res.json.id,
			status: 'completed',
			profile: 'default',
			include: ['summary', 'sentiment', 'compliance', 'keywords', 'performance'],
			error: null,
		});
		expect(done.summary).toContain('Monday');
		expect(done.sentiment).toMatchObject({ overall: 'positive', score: expect.any(Number) });
		expect(done.sentiment.customer.label).toBe('positive');
		expect(done.compliance).toMatchObject({ passed: true });
		expect(done.compliance.checks.map((c: any) => c.id)).toEqual(['identity_verification', 'recording_consent']);
		expect(done.keywords).toEqual(expect.arrayContaining(['monday']));
		expect(done.performance).toMatchObject({ turns: 8, agent_turns: 4, customer_turns: 4 });
		expect(done.performance.talk_ratio.agent + done.performance.talk_ratio.customer).toBeCloseTo(1, 1);
		expect(Date.parse(done.completed_at)).toBeGreaterThanOrEqual(Date.parse(done.created_at));
	});

	it('computes only the requested parts; the others are null', async () => {
		const sessionId = await endedCall({ mode: 'bidirectional_translation' });
		const res = await api(sb, 'POST', `/sessions/${sessionId}/analysis`, {
			body: { profile: 'sales', include: ['sentiment', 'summary', 'sentiment'] },
		});
		const done = await completed(res.json.id);
		expect(done).toMatchObject({ profile: 'sales', include: ['sentiment', 'summary'], compliance: null, keywords: null, performance: null });
		expect(typeof done.summary).toBe('string');
		expect(done.sentiment).not.toBeNull();
	});

	it('an empty body means the default profile with every part', async () => {
		const sessionId = await endedCall({ mode: 'bidirectional_translation' });
		const res = await api(sb, 'POST', `/sessions/${sessionId}/analysis`);
		expect(res.status).toBe(202);
		expect(res.json.include).toHaveLength(5);
	});

	it('replays the first 202 for the same Idempotency-Key and bills once; a different body is a mismatch', async () => {
		const sessionId = await endedCall({ mode: 'bidirectional_translation' });
		const headers = { 'idempotency-key': 'anl-key-1' };
		const first = await api(sb, 'POST', `/sessions/${sessionId}/analysis`, { body: { include: ['summary'] }, headers });
		const credits = sb.credits;
		const again = await api(sb, 'POST', `/sessions/${sessionId}/analysis`, { body: { include: ['summary'] }, headers });
		expect(again.status).toBe(202);
		expect(again.json).toEqual(first.json);
		expect(again.headers.get('idempotent-replayed')).toBe('true');
		expect(sb.credits).toBe(credits);
		expect(sb.postCall.analyses.size).toBe(1);
		const other = await api(sb, 'POST', `/sessions/${sessionId}/analysis`, { body: { include: ['keywords'] }, headers });
		expect(other.status).toBe(400);
		expect(other.json.error.code).toBe('idempotency_mismatch');
	});

	it.each([
		[{ include: ['summary', 'mood'] }, 'include[1]'],
		[{ include: [] }, 'include'],
		[{ include: 'summary' }, 'include'],
		[{ profile: '' }, 'profile'],
		[{ profile: 7 }, 'profile'],
	])('rejects %j with 422 naming %s, and bills nothing', async (body, param) => {
		const sessionId = await endedCall({ mode: 'bidirectional_translation' });
		const credits = sb.credits;
		const res = await api(sb, 'POST', `/sessions/${sessionId}/analysis`, { body });
		expect(res.status).toBe(422);
		expect(res.json.error).toMatchObject({ code: 'validation_error', param });
		expect(sb.credits).toBe(credits);
	});

	it('refuses a session that has not ended (409), an unknown session (404), and no credits (402)', async () => {
		const { json: live } = await createSession(sb);
		const early = await api(sb, 'POST', `/sessions/${live.id}/analysis`, { body: {} });
		expect(early.status).toBe(409);
		expect(early.json.error.code).toBe('session_not_ended');
		expect((await api(sb, 'POST', '/sessions/sess_NOPE/analysis', { body: {} })).status).toBe(404);
		const unknown = await api(sb, 'GET', '/analyses/anl_NOPE');
		expect(unknown.status).toBe(404);
		expect(unknown.json.error.code).toBe('analysis_not_found');

		await api(sb, 'POST', `/sessions/${live.id}/end`);
		sb.credits = 0;
		const broke = await api(sb, 'POST', `/sessions/${live.id}/analysis`, { body: {} });
		expect(broke.status).toBe(402);
		expect(broke.json.error.code).toBe('insufficient_api_credits');
	});

	it('a failed analysis (control fault) carries an error', async () => {
		sb.postCall.failNext('analyses', 1);
		const sessionId = await endedCall({ mode: 'bidirectional_translation' });
		const res = await api(sb, 'POST', `/sessions/${sessionId}/analysis`, { body: {} });
		const done = await completed(res.json.id);
		expect(done).toMatchObject({ status: 'failed', summary: null, error: { code: 'analysis_failed' } });
	});
});
