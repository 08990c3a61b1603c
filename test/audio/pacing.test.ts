/**
 * uploadAudio's pacing on a fake clock: each 200 ms slot goes out exactly when its audio would be
 * heard (measured on the injected clock, not on the machine's), over a real stream to the sandbox.
 * One fake clock drives the pacing and the stream client.
 */
import { prepareAudio } from '../../nodes/shared/audio/prepare';
import { uploadAudio } from '../../nodes/shared/audio/upload';
import { KallglotSandbox } from '../../sandbox';
import { FakeClock } from '../helpers/clock';
import { bursts, synthesize, wav } from './signals';

let sandbox: KallglotSandbox;
beforeAll(async () => {
	sandbox = await KallglotSandbox.start();
});
afterAll(async () => {
	await sandbox.close();
});

test('one slot per 200 ms of audio on the injected clock; session.end after the quiet period', async () => {
	const audio = await prepareAudio(wav([synthesize(bursts(2, 0.6, 0.6, 440), 8000)], 8000), {
		monoSpeaker: 'customer',
		stereoLayout: 'leftAgentRightCustomer',
		maxDurationSeconds: 60,
	});
	const created = await fetch(`${sandbox.baseUrl}/sessions`, {
		method: 'POST',
		headers: { authorization: `Bearer ${sandbox.apiKey}`, 'content-type': 'application/json' },
		body: JSON.stringify({ mode: 'bidirectional_translation' }),
	}).then((r) => r.json() as Promise<{ id: string; stream: { url: string; token: string } }>);

	const clock = new FakeClock();
	const sentAt: number[] = [];
	let finished = false;
	const upload = uploadAudio({
		audio,
		endpoint: created.stream,
		refreshEndpoint: async () => ({ kind: 'ended' }),
		clock,
		quietMs: 500,
		// Waits for the server are left to real I/O: the driver only advances the clock over short
		// waits. The stream client's timers (keepalive, handshake) run on the same clock.
		handshakeTimeoutMs: 1e9,
		maxQuietWaitMs: 1e9,
		onSlotSent: (_slot, at) => sentAt.push(at),
	}).finally(() => (finished = true));

	while (!finished) {
		await new Promise((resolve) => setTimeout(resolve, 1));
		const [next] = clock.delays;
		if (next !== undefined && next <= 1000) await clock.fireNext();
	}
	const report = await upload;

	// 3.0 s of audio: 15 slots, slot k at k × 200 ms after the first.
	expect(sentAt).toHaveLength(15);
	expect(sentAt.map((at) => at - sentAt[0])).toEqual(sentAt.map((_, k) => k * 200));
	// Real-time pace within ±10 %: 2.8 s of audio offsets over 2.8 s of (fake) clock.
	const ratio = (14 * 200) / (sentAt[14] - sentAt[0]);
	expect(Math.abs(ratio - 1)).toBeLessThanOrEqual(0.1);
	expect(report).toMatchObject({ chunksSent: 15, reconnects: 0, unheardSeconds: 0, endConfirmed: true, endReason: 'explicit_end' });
	expect(report.finals.map((f) => f.speaker)).toEqual(['customer', 'customer']);
	expect(sandbox.sessions.get(created.id)!.status).toBe('ended');
});
