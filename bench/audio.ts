/**
 * Part 6, Translate Audio: what preparing a file costs and how long a translation takes.
 *   - decode + resample + μ-law CPU for 60 s of 44.1 kHz stereo PCM16 WAV and of a 128 kbit/s
 *     MP3 (the test fixture, a LAME encode, repeated to 60 s), as a fraction of the audio's length;
 *   - peak RSS added while preparing a 10-minute 48 kHz stereo WAV, beyond the input buffer;
 *   - wall time of Session → Translate Audio (real engine, sandbox) ÷ the audio's length, with the
 *     quiet period stated beside it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kallglot } from '../nodes/Kallglot/Kallglot.node.js';
import { prepareAudio, type PrepareOptions } from '../nodes/shared/audio/prepare';
import { KallglotSandbox } from '../sandbox';
import { translateAudio } from '../test/audio/engine';
import { TestNodeTypes } from '../test/helpers/engine';
import { bursts, synthesize, wav } from '../test/audio/signals';
import { stereoWav } from './audio-signal';
import { round } from './util';

const STEREO: PrepareOptions = { monoSpeaker: 'customer', stereoLayout: 'leftAgentRightCustomer', maxDurationSeconds: 3600 };

async function cpuFraction(bytes: Buffer, seconds: number): Promise<number> {
	await prepareAudio(bytes, STEREO); // warm up (wasm compile, JIT)
	const start = process.cpuUsage();
	const prepared = await prepareAudio(bytes, STEREO);
	const used = process.cpuUsage(start);
	// The MP3 repeats a LAME encode: each copy adds the encoder's delay and padding (~50 ms).
	if (Math.abs(prepared.durationSeconds - seconds) > 2) throw new Error(`expected ${seconds} s, decoded ${prepared.durationSeconds} s`);
	return (used.user + used.system) / 1e6 / prepared.durationSeconds;
}

export async function audioPart(quick: boolean) {
	const wav60 = stereoWav(60, 44100);
	const wavCpu = await cpuFraction(wav60, 60);

	const fixture = readFileSync(join(__dirname, '..', 'test', 'audio', 'fixtures', 'bursts-2x0.6s-44k1-mono-128k.mp3'));
	const mp3 = Buffer.concat(Array.from({ length: 20 }, () => fixture)); // 20 × 3 s
	const mp3Cpu = await cpuFraction(mp3, 60);

	// In a process of its own: its peak RSS is this measurement's alone.
	const minutes = quick ? 2 : 10;
	const memory = JSON.parse(
		execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(__dirname, 'audio-memory.ts'), String(minutes)], { encoding: 'utf8' }),
	) as { minutes: number; inputBytes: number; addedBytes: number; outputBytes: number };

	const sandbox = await KallglotSandbox.start();
	const audioSeconds = quick ? 6 : 20;
	const quietSeconds = 3;
	const file = wav([synthesize(bursts(Math.round(audioSeconds / 2), 1, 1, 440, 0), 16000)], 16000);
	const started = Date.now();
	const run = await translateAudio(sandbox, { files: [file], parameters: { options: { quietPeriodSeconds: quietSeconds } }, nodeTypes: new TestNodeTypes([new Kallglot()]) });
	const wallSeconds = (Date.now() - started) / 1000;
	const sessionId = (run.items?.[0]?.json as { sessionId?: string } | undefined)?.sessionId;
	const intake = sessionId ? sandbox.audioIntake(sessionId) : null;
	await sandbox.close();
	if (run.error) throw run.error;

	return {
		cpuFractionOfDuration: { wav44k1Stereo60s: round(wavCpu, 4), mp3128k60s: round(mp3Cpu, 4) },
		peakRssAdded: {
			minutes,
			inputMB: round(memory.inputBytes / 2 ** 20, 1),
			addedMB: round(memory.addedBytes / 2 ** 20, 1),
			outputMB: round(memory.outputBytes / 2 ** 20, 1),
		},
		realtime: {
			audioSeconds,
			quietSeconds,
			wallSeconds: round(wallSeconds, 2),
			wallToAudio: round(wallSeconds / audioSeconds, 3),
			wallMinusQuietToAudio: round((wallSeconds - quietSeconds) / audioSeconds, 3),
			sandboxArrivalRatio: intake?.realtimeRatio === null || intake === null ? null : round(intake.realtimeRatio, 3),
		},
	};
}
