/**
 * After the last chunk, uploadAudio waits until Kallglot has finished: no transcript event for the
 * quiet period (3 s by default), bounded at 30 s after the last chunk (docs/translate-audio.md).
 * On a fake clock, over a real stream to the sandbox; the test is the peer that keeps talking
 * (sandbox.sendFrame), so every event arrives at a known clock time.
 */
import type { PreparedAudio } from '../../nodes/shared/audio/prepare';
import { DEFAULT_MAX_QUIET_WAIT_MS, DEFAULT_QUIET_MS, uploadAudio, type UploadReport } from '../../nodes/shared/audio/upload';
import type { TimerHandle } from '../../nodes/shared/clock';
import { KallglotSandbox } from '../../sandbox';
import { FakeClock } from '../helpers/clock';
import { until } from './engine';

jest.setTimeout(60_000);

/** Remembers the delay of every timer armed, so the test sees when the quiet wait is re-armed. */
class RecordingClock extends FakeClock {
	readonly armedDelays: number[] = [];
	override setTimeout(callback: () => void, ms: number): TimerHandle {
		this.armedDelays.push(ms);
		return super.setTimeout(callback, ms);
	}
}

let sandbox: KallglotSandbox;
beforeAll(async () => {
	sandbox = await KallglotSandbox.start();
});
afterAll(async () => {
	await sandbox.close();
});

/** 1 s of μ-law silence (0xFF): the sandbox hears no speech, so only the test's frames are events. */
const SILENCE: PreparedAudio = {
	source: { container: 'wav', codec: 'mulaw', sampleRate: 8000, channels: 1, bitsPerSample: 8 },
	durationSeconds: 1,
	tracks: [{ speaker: 'customer', mulaw: Buffer.alloc(8000, 0xff), peakDbfs: -Infinity }],
};
const SLOTS = 5;

interface Upload {
	sessionId: string;
	clock: RecordingClock;
	/** Clock time when the last slot went out. */
	lastSlotAt: number;
	/** Timers armed up to the last slot: the next one is the quiet wait. */
	armedAtLastSlot: number;
	report: Promise<UploadReport>;
	/** The upload has resolved or rejected. */
	settled(): boolean;
	endSent(): boolean;
	/** The peer says something: a transcript.partial on the session's stream. */
	talk(): void;
}

/** Creates a session, streams SILENCE at real-time pace on the fake clock, returns once the last slot went out. */
async function uploadSilence(): Promise<Upload> {
	const created = await fetch(`${sandbox.baseUrl}/sessions`, {
		method: 'POST',
		headers: { authorization: `Bearer ${sandbox.apiKey}`, 'content-type': 'application/json' },
		body: JSON.stringify({ mode: 'bidirectional_translation' }),
	}).then((r) => r.json() as Promise<{ id: string; stream: { url: string; token: string } }>);
	const clock = new RecordingClock();
	let lastSlotAt: number | null = null;
	let armedAtLastSlot = 0;
	const report = uploadAudio({
		audio: SILENCE,
		endpoint: created.stream,
		refreshEndpoint: async () => ({ kind: 'ended' }),
		clock,
		// The defaults are what is tested: no quietMs, no maxQuietWaitMs. Keepalive and handshake
		// timers are moved out of the way (their waits are left to real I/O).
		pingIntervalMs: 1e9,
		handshakeTimeoutMs: 1e9,
		onSlotSent: (slot, at) => {
			if (slot !== SLOTS - 1) return;
			lastSlotAt = at;
			armedAtLastSlot = clock.armedDelays.length;
		},
	});
	let failed: unknown = null;
	let settled = false;
	report.then(
		() => (settled = true),
		(error: unknown) => {
			settled = true;
			failed = error;
		},
	);
	// Pacing: each 200 ms wait is fired as soon as it is armed.
	while (lastSlotAt === null) {
		if (failed) throw failed;
		await new Promise((resolve) => setTimeout(resolve, 1));
		const [next] = clock.delays;
		if (next !== undefined && next <= 200) await clock.fireNext();
	}
	let sequence = 0;
	const session = () => sandbox.sessions.get(created.id)!;
	return {
		sessionId: created.id,
		clock,
		lastSlotAt,
		armedAtLastSlot,
		report,
		settled: () => settled,
		endSent: () => session().clientFrames.some((f) => f.type === 'session.end'),
		talk: () => sandbox.sendFrame(created.id, { type: 'transcript.partial', speaker: 'customer', language: 'es', text: 'Hola', sequence: ++sequence }),
	};
}

/**
 * Waits until the upload armed its next wait (the first timer armed after `from`: nothing else
 * arms one while it waits) and checks that it is `ms`; fails at once if the upload sent
 * session.end or settled instead.
 */
async function rearmed(upload: Upload, from: number, ms: number): Promise<void> {
	await until(() => upload.clock.armedDelays.length > from || upload.endSent() || upload.settled());
	expect(upload.endSent()).toBe(false);
	expect(upload.clock.armedDelays[from]).toBe(ms);
}

test('the documented defaults: a 3 s quiet period, waited at most 30 s', () => {
	expect(DEFAULT_QUIET_MS).toBe(3000);
	expect(DEFAULT_MAX_QUIET_WAIT_MS).toBe(30_000);
});

test('session.end goes out exactly 3 s after the last event; an event restarts the quiet period', async () => {
	const upload = await uploadSilence();
	const { clock } = upload;
	// The last slot starts the quiet period.
	await rearmed(upload, upload.armedAtLastSlot, 3000);
	await clock.advance(2999);
	expect(Math.min(...clock.delays)).toBe(1);
	expect(upload.endSent()).toBe(false);

	// Kallglot says something 1 ms before the quiet period would end: it starts again.
	const before = clock.armedDelays.length;
	upload.talk();
	await rearmed(upload, before, 3000);
	await clock.advance(2999);
	expect(Math.min(...clock.delays)).toBe(1);
	expect(upload.endSent()).toBe(false);

	await clock.advance(1);
	await until(() => upload.endSent());
	expect(clock.now() - upload.lastSlotAt).toBe(2999 + 3000);
	expect(await upload.report).toMatchObject({ chunksSent: SLOTS, quietBounded: false, endConfirmed: true, endReason: 'explicit_end' });
	expect(sandbox.sessions.get(upload.sessionId)!.status).toBe('ended');
});

test('a peer that keeps talking after the audio is cut at exactly 30 s: session.end is sent and the report says so', async () => {
	const upload = await uploadSilence();
	const { clock } = upload;
	await rearmed(upload, upload.armedAtLastSlot, 3000);
	const cap = upload.lastSlotAt + 30_000;
	// An event every second: the quiet period (3 s) never passes.
	for (;;) {
		await clock.advance(1000);
		if (clock.now() >= cap) break;
		expect(upload.endSent()).toBe(false);
		const before = clock.armedDelays.length;
		upload.talk();
		// Still waiting: the next wake-up is 3 s ahead, or the bound when that is nearer.
		await rearmed(upload, before, Math.min(3000, cap - clock.now()));
	}
	await until(() => upload.endSent());
	expect(clock.now() - upload.lastSlotAt).toBe(30_000);
	expect(await upload.report).toMatchObject({ chunksSent: SLOTS, quietBounded: true, endConfirmed: true, endReason: 'explicit_end' });
	expect(sandbox.sessions.get(upload.sessionId)!.status).toBe('ended');
});
