import { readFileSync } from 'fs';
import { join } from 'path';

import { KallglotSandbox } from '../../sandbox';
import { bursts, synthesize, wav } from './signals';
import { startTranslateAudio, translateAudio, until } from './engine';

jest.setTimeout(60_000);

let sandbox: KallglotSandbox;
beforeAll(async () => {
	sandbox = await KallglotSandbox.start();
});
afterAll(async () => {
	await sandbox.close();
});
beforeEach(() => {
	sandbox.clearRequests();
	sandbox.clearFaults();
});

const creates = () => sandbox.requests.filter((r) => r.method === 'POST' && r.path === '/v1/sessions');
const newSession = (before: Set<string>) => [...sandbox.sessions.values()].find((s) => !before.has(s.id));

interface Turn {
	speaker: string;
	language: string;
	text: string;
	translation: { language: string; text: string } | null;
	offsetSeconds: number;
}

describe('Session → Translate Audio on the real engine', () => {
	test('a mono 16 kHz voicemail: one customer turn per burst, offsets from the audio, paced at real time', async () => {
		// 0.7 s silence, 0.6 s tone, 0.7 s silence, 0.6 s tone, 0.7 s silence.
		const file = wav([synthesize(bursts(2, 0.6, 0.7, 440), 16000)], 16000);
		const { items, error } = await translateAudio(sandbox, { files: [file], parameters: { metadata: { entry: [{ key: 'crm_id', value: '42' }] } } });
		expect(error).toBeUndefined();
		expect(items).toHaveLength(1);
		const json = items![0].json as { sessionId: string; turns: Turn[]; text: string; durationSeconds: number; languages: string[]; turnsFrom: string };
		expect(items![0].pairedItem).toEqual({ item: 0 });
		expect(json.durationSeconds).toBeCloseTo(3.3, 2);
		expect(json.turnsFrom).toBe('transcript');
		expect(json.turns.map((t) => t.speaker)).toEqual(['customer', 'customer']);
		expect(json.turns[0]).toMatchObject({ language: 'es', translation: { language: 'en' } });
		expect(json.turns[0].offsetSeconds).toBeCloseTo(0.7, 1);
		expect(json.turns[1].offsetSeconds).toBeCloseTo(2.0, 1);
		expect(json.languages.sort()).toEqual(['en', 'es']);
		expect(json.text.split('\n')).toHaveLength(2);
		expect(json.text).toMatch(/^\[00:00\] Customer \(es\): .+ → \(en\) .+/);
		// Kallglot went quiet within the quiet period: not cut at the 30 s bound (quiet.test.ts tests the bound).
		expect(items![0].json.stream).toEqual({ reconnects: 0, unheardSeconds: 0, quietPeriodBounded: false });

		// The session: created without routing, with the metadata; ended by the stream's session.end.
		expect(creates()).toHaveLength(1);
		expect(creates()[0].body).toEqual({ mode: 'bidirectional_translation', source_language: 'es', target_language: 'en', metadata: { crm_id: '42' } });
		const session = sandbox.sessions.get(json.sessionId)!;
		expect(session.status).toBe('ended');
		expect(session.endReason).toBe('explicit_end');
		// 3.3 s of audio in 200 ms chunks: 17 chunks, sequences 1…17, the audio never faster than real time.
		const intake = sandbox.audioIntake(json.sessionId)!;
		expect(intake).toMatchObject({ chunks: 17, speakers: { customer: 17 }, outOfOrder: 0 });
		expect(intake.realtimeRatio).toBeLessThanOrEqual(1.1);
	});

	test('a stereo 48 kHz float file: left agent, right customer, turns in spoken order', async () => {
		const left = synthesize([{ seconds: 0.4, frequency: 0 }, { seconds: 0.6, frequency: 300 }, { seconds: 1.6, frequency: 0 }], 48000);
		const right = synthesize([{ seconds: 1.4, frequency: 0 }, { seconds: 0.6, frequency: 500 }, { seconds: 0.6, frequency: 0 }], 48000);
		const { items, error } = await translateAudio(sandbox, { files: [wav([left, right], 48000, 'float32')] });
		expect(error).toBeUndefined();
		const json = items![0].json as { turns: Turn[]; sessionId: string; audio: { speakers: string[] } };
		expect(json.audio.speakers).toEqual(['agent', 'customer']);
		expect(json.turns.map((t) => [t.speaker, t.language])).toEqual([
			['agent', 'en'],
			['customer', 'es'],
		]);
		expect(json.turns[0].offsetSeconds).toBeCloseTo(0.4, 1);
		expect(json.turns[1].offsetSeconds).toBeCloseTo(1.4, 1);
		// Both speakers side by side: 13 slots × 2 chunks.
		expect(sandbox.audioIntake(json.sessionId)).toMatchObject({ chunks: 26, speakers: { agent: 13, customer: 13 }, outOfOrder: 0 });
	});

	test('swapped stereo channels and one item per turn', async () => {
		const left = synthesize(bursts(1, 0.5, 0.3, 300), 8000);
		const right = new Float32Array(left.length);
		const { items } = await translateAudio(sandbox, {
			files: [wav([left, right], 8000, 'alaw')],
			parameters: { stereoChannels: 'leftCustomerRightAgent', output: 'turns' },
		});
		expect(items).toHaveLength(1);
		expect(items![0].json).toMatchObject({ speaker: 'customer', turnIndex: 0, sessionId: expect.stringMatching(/^sess_/) });
		expect(items![0].pairedItem).toEqual({ item: 0 });
	});

	test('an MP3 (128 kbit/s, 44.1 kHz, made with LAME) and a μ-law WAV at 44.1 kHz, one item each', async () => {
		const mp3 = readFileSync(join(__dirname, 'fixtures', 'bursts-2x0.6s-44k1-mono-128k.mp3'));
		const mulawWav = wav([synthesize(bursts(1, 0.5, 0.4, 700), 44100)], 44100, 'mulaw');
		const { items, error } = await translateAudio(sandbox, { files: [mp3, mulawWav], parameters: { monoSpeaker: 'agent' } });
		expect(error).toBeUndefined();
		expect(items!.map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
		const [first, second] = items!.map((i) => i.json as { turns: Turn[]; audio: { codec: string } });
		expect(first.audio.codec).toBe('mp3');
		expect(first.turns.map((t) => t.speaker)).toEqual(['agent', 'agent']);
		expect(first.turns[0].offsetSeconds).toBeCloseTo(0.6, 1);
		expect(second.audio.codec).toBe('mulaw');
		expect(second.turns).toHaveLength(1);
	});
});

describe('Translate Audio: Idempotency Key', () => {
	test('a re-run with the same key creates nothing and returns the first run’s transcript', async () => {
		const before = new Set(sandbox.sessions.keys());
		const file = wav([synthesize(bursts(1, 0.5, 0.4, 440), 8000)], 8000);
		const parameters = { options: { idempotencyKey: 'voicemail-C-7', quietPeriodSeconds: 0.5 } };
		const first = await translateAudio(sandbox, { files: [file], parameters });
		const again = await translateAudio(sandbox, { files: [file], parameters });
		const [a, b] = [first, again].map((r) => r.items![0].json as { sessionId: string; turns: Turn[]; replayed: boolean });
		expect(b.sessionId).toBe(a.sessionId);
		expect(b.turns).toEqual(a.turns);
		expect([a.replayed, b.replayed]).toEqual([false, true]);
		expect(creates().map((r) => r.headers['idempotency-key'])).toEqual(['voicemail-C-7', 'voicemail-C-7']);
		expect([...sandbox.sessions.keys()].filter((id) => !before.has(id))).toEqual([a.sessionId]);
		expect(sandbox.audioIntake(a.sessionId)!.chunks).toBe(7);
	});
});

const fixture = (name: string) => readFileSync(join(__dirname, 'fixtures', name));
/** A WAV whose format code says IMA ADPCM (0x11): a codec the node does not decode. */
function adpcmWav(): Buffer {
	const file = wav([synthesize([{ seconds: 0.5, frequency: 440 }], 8000)], 8000);
	file.writeUInt16LE(0x0011, 20);
	return file;
}

describe('Translate Audio: bad input creates no session', () => {
	const cases: Array<[string, Buffer | null, Record<string, unknown>, RegExp]> = [
		['not audio', Buffer.from('<!DOCTYPE html><html>Not Found</html>'), {}, /not audio/],
		['silent', wav([new Float32Array(16000)], 16000), {}, /silent/],
		['empty', wav([new Float32Array(0)], 16000), {}, /no audio samples/],
		['longer than Max Duration', wav([synthesize([{ seconds: 7, frequency: 440 }], 8000)], 8000), { options: { maxDurationMinutes: 0.1 } }, /longer than Max Duration/],
		['no binary data', null, {}, /no binary data/],
		['Ogg Vorbis (fixture made with oggenc, see fixtures/README.md)', fixture('tone-1s-8k-mono.vorbis.ogg'), {}, /holds vorbis, which is not supported/],
		['an ADPCM WAV', adpcmWav(), {}, /which is not supported/],
		['an M4A (AAC)', Buffer.concat([Buffer.from([0, 0, 0, 0x20]), Buffer.from('ftypM4A '), Buffer.alloc(100)]), {}, /M4A.*which is not supported/],
		['a WAV truncated in its header', wav([synthesize([{ seconds: 1, frequency: 440 }], 8000)], 8000).subarray(0, 30), {}, /truncated/],
		['three channels', wav([0, 1, 2].map(() => synthesize([{ seconds: 0.5, frequency: 440 }], 8000)), 8000), {}, /3 channels/],
		['an unknown speaker', wav([synthesize([{ seconds: 1, frequency: 440 }], 8000)], 8000), { monoSpeaker: 'caller' }, /Mono File Speaker "caller"/],
	];
	test.each(cases)('%s', async (_name, file, parameters, message) => {
		const { error } = await translateAudio(sandbox, { files: [file], parameters });
		expect(error?.message).toMatch(message);
		expect(error?.name).toBe('NodeOperationError');
		expect(error?.description).toMatch(/Nothing was sent to Kallglot/);
		expect(creates()).toHaveLength(0);
	});

	test('continueOnFail: a bad file fails its own item, the good one is translated', async () => {
		const good = wav([synthesize(bursts(1, 0.4, 0.3, 440), 8000)], 8000);
		const { items } = await translateAudio(sandbox, { files: [Buffer.from('hello'), good], onError: 'continueRegularOutput' });
		expect(items).toHaveLength(2);
		expect(items![0].json).toMatchObject({ error: expect.stringMatching(/not audio/) });
		expect(items![0].pairedItem).toEqual({ item: 0 });
		expect(items![1].json).toMatchObject({ turns: [expect.objectContaining({ speaker: 'customer' })] });
		expect(creates()).toHaveLength(1);
	});
});

describe('Translate Audio: failures end the session', () => {
	test('a drop mid-upload reconnects with a fresh token and goes on with the next unsent chunk', async () => {
		// Frames on the first connection: session.ready, the first pong, a partial: then a drop.
		sandbox.setStreamFaults('*', { dropAfterFrames: 3 });
		const file = wav([synthesize(bursts(3, 0.6, 0.6, 440), 8000)], 8000);
		const { items, error } = await translateAudio(sandbox, { files: [file] });
		expect(error).toBeUndefined();
		const json = items![0].json as { sessionId: string; turns: Turn[]; stream: { reconnects: number; unheardSeconds: number } };
		expect(json.stream.reconnects).toBe(1);
		expect(json.stream.unheardSeconds).toBeGreaterThanOrEqual(0);
		expect(json.stream.unheardSeconds).toBeLessThanOrEqual(6.2);
		// A second handshake with a different token; no chunk sent twice, none out of order.
		const handshakes = sandbox.handshakes.filter((h) => h.sessionId === json.sessionId && h.status === 101);
		expect(handshakes).toHaveLength(2);
		expect(handshakes[1].token).not.toBe(handshakes[0].token);
		const sequences = sandbox.sessions.get(json.sessionId)!.clientFrames.filter((f) => f.type === 'audio.input').map((f) => f.sequence as number);
		expect(new Set(sequences).size).toBe(sequences.length);
		expect([...sequences].sort((a, b) => a - b)).toEqual(sequences);
		expect(sequences[sequences.length - 1]).toBe(21); // 4.2 s in 200 ms chunks
		expect(sandbox.sessions.get(json.sessionId)!.status).toBe('ended');
	});

	test('session.error fails the item with the fix, and the session is ended', async () => {
		const before = new Set(sandbox.sessions.keys());
		const file = wav([synthesize(bursts(2, 0.6, 0.6, 440), 8000)], 8000);
		const running = startTranslateAudio(sandbox, { files: [file], onError: 'continueErrorOutput' });
		const session = await until(() => {
			const s = newSession(before);
			return s && sandbox.audioIntake(s.id) ? s : null;
		});
		sandbox.sendFrame(session.id, { type: 'session.error', code: 'invalid_audio_format', message: 'Expected μ-law 8000 Hz mono.' });
		const { errorItems, items } = await running.done;
		expect(items).toHaveLength(0);
		expect(errorItems).toHaveLength(1);
		expect(errorItems![0].json).toMatchObject({ message: expect.stringMatching(/invalid_audio_format/) });
		expect(JSON.stringify(errorItems![0].json)).toMatch(/was ended, so nothing more is billed/);
		expect(session.status).toBe('ended');
		expect(sandbox.requests.some((r) => r.method === 'POST' && r.path === `/v1/sessions/${session.id}/end`)).toBe(true);
	});

	test('cancelling the execution ends the session', async () => {
		const before = new Set(sandbox.sessions.keys());
		const file = wav([synthesize([{ seconds: 20, frequency: 440 }], 8000)], 8000);
		const running = startTranslateAudio(sandbox, { files: [file] });
		const session = await until(() => {
			const s = newSession(before);
			return s && sandbox.audioIntake(s.id) ? s : null;
		});
		running.cancel();
		// n8n cancels the node's HTTP requests too: the session is ended on its stream.
		await until(() => session.status === 'ended');
		expect(session.endReason).toBe('explicit_end');
		expect(sandbox.audioIntake(session.id)!.chunks).toBeLessThan(100);
		await running.done;
	});

	test('the stream finals stand in when the transcript is not available', async () => {
		sandbox.injectFault({ method: 'GET', path: /\/transcript$/, status: 404, code: 'session_not_found', times: 1 });
		const file = wav([synthesize(bursts(1, 0.5, 0.4, 440), 8000)], 8000);
		const { items } = await translateAudio(sandbox, { files: [file] });
		const json = items![0].json as { turnsFrom: string; turns: Turn[] };
		expect(json.turnsFrom).toBe('stream');
		expect(json.turns).toHaveLength(1);
		expect(json.turns[0].offsetSeconds).toBeCloseTo(0.4, 1);
	});
});
