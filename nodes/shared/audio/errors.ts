/**
 * Why an audio file cannot be translated: each kind carries what to tell the user and how to fix
 * it. Raised while decoding and validating, before any session exists, so nothing is billed.
 */
export const AUDIO_PROBLEMS = ['not_audio', 'unsupported_codec', 'corrupt', 'empty', 'silent', 'too_long', 'too_many_channels'] as const;
export type AudioProblem = (typeof AUDIO_PROBLEMS)[number];

const FIXES: Record<AudioProblem, string> = {
	not_audio:
		'Pass an audio file: WAV, MP3, FLAC or Ogg Opus. Check that the binary property holds the file itself, not a link or an HTML page.',
	unsupported_codec:
		'Convert the file to WAV (PCM, μ-law or A-law), MP3, FLAC or Ogg Opus, e.g. with ffmpeg or sox, and run again.',
	corrupt: 'The file looks damaged or truncated. Download it again and run again.',
	empty: 'The file holds no audio samples. Check the source of the file.',
	silent: 'Nothing louder than background noise was found. Check that this is the right file and that it was recorded with sound.',
	too_long: 'Raise Max Duration under Options, or cut the file into shorter parts (the audio is streamed at real-time pace).',
	too_many_channels: 'Mix the file down to mono or stereo (e.g. ffmpeg -ac 2) and run again.',
};

export class AudioInputError extends Error {
	readonly problem: AudioProblem;
	/** What the user can do about it. */
	readonly fix: string;

	constructor(problem: AudioProblem, message: string) {
		super(message);
		this.name = 'AudioInputError';
		this.problem = problem;
		this.fix = FIXES[problem];
	}
}
