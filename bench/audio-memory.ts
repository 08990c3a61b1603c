/**
 * Run alone by bench/audio.ts, so that the process's peak RSS is this measurement's: a stereo
 * 48 kHz WAV of argv[2] minutes is made, then prepared; prints the peak RSS added by preparing it.
 */
import { prepareAudio } from '../nodes/shared/audio/prepare';
import { stereoWav } from './audio-signal';

async function main() {
	const minutes = Number(process.argv[2] ?? 10);
	const input = stereoWav(minutes * 60, 48000);
	(globalThis as { gc?: () => void }).gc?.();
	// The RSS now (input made, garbage collected): an upper bound of what preparing adds, since the
	// peak may also hold what making the input left behind.
	const baseline = process.memoryUsage().rss;
	const prepared = await prepareAudio(input, { monoSpeaker: 'customer', stereoLayout: 'leftAgentRightCustomer', maxDurationSeconds: 24 * 3600 });
	const peak = process.resourceUsage().maxRSS * 1024;
	process.stdout.write(
		JSON.stringify({
			minutes,
			inputBytes: input.length,
			addedBytes: Math.max(0, peak - baseline),
			outputBytes: prepared.tracks.reduce((n, t) => n + t.mulaw.length, 0),
		}),
	);
}

void main();
