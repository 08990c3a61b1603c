/** Shapes shared by the audio decoders and the pipeline. */

export type Container = 'wav' | 'mp3' | 'flac' | 'ogg';

/** What the input file is, as found while decoding. */
export interface SourceFormat {
	container: Container;
	/** pcm, float, mulaw, alaw, mp3, flac, opus, vorbis */
	codec: string;
	sampleRate: number;
	channels: number;
	/** For WAV; null for compressed formats. */
	bitsPerSample: number | null;
}

/** Decoded samples in [-1, 1], one array per channel. */
export interface DecodedBlock {
	sampleRate: number;
	channelData: Float32Array[];
}
