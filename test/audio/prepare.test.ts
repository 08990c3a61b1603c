import { readFileSync } from 'fs';
import { join } from 'path';

import { prepareAudio, type PrepareOptions } from '../../nodes/shared/audio/prepare';
import { AudioInputError } from '../../nodes/shared/audio/errors';
import { bursts, fromMulaw, synthesize, toneLevel, wav, type WavEncoding } from './signals';

const MONO: PrepareOptions = { monoSpeaker: 'customer', stereoLayout: 'leftAgentRightCustomer', maxDurationSeconds: 600 };

async function problemOf(bytes: Buffer, options = MONO): Promise<string> {
	try {
		await prepareAudio(bytes, options);
	} catch (error) {
		if (error instanceof AudioInputError) return error.problem;
		throw error;
	}
	return 'none';
}

describe('prepareAudio: WAV of every sample format and rate to μ-law 8 kHz', () => {
	const encodings: WavEncoding[] = ['pcm8', 'pcm16', 'pcm24', 'pcm32', 'float32', 'mulaw', 'alaw'];
	for (const rate of [8000, 16000, 44100, 48000]) {
		for (const encoding of encodings) {
			it(`${encoding} at ${rate} Hz keeps a 440 Hz tone's length and level`, async () => {
				const samples = synthesize([{ seconds: 1, frequency: 440 }], rate);
				const prepared = await prepareAudio(wav([samples], rate, encoding), MONO);
				expect(prepared.source).toMatchObject({ container: 'wav', sampleRate: rate, channels: 1 });
				expect(prepared.durationSeconds).toBeCloseTo(1, 3);
				expect(prepared.tracks).toHaveLength(1);
				expect(prepared.tracks[0].speaker).toBe('customer');
				expect(prepared.tracks[0].mulaw.length).toBe(8000);
				const out = fromMulaw(prepared.tracks[0].mulaw).subarray(800, 7200);
				expect(toneLevel(out, 440, 8000)).toBeGreaterThan(0.4);
				expect(toneLevel(out, 440, 8000)).toBeLessThan(0.6);
			});
		}
	}

	it('filters before decimating: a 6 kHz tone at 44.1 kHz does not fold back to 2 kHz', async () => {
		const samples = synthesize([{ seconds: 1, frequency: 6000 }], 44100);
		const prepared = await prepareAudio(wav([samples], 44100, 'float32'), MONO);
		const out = fromMulaw(prepared.tracks[0].mulaw).subarray(800, 7200);
		// Dropping samples would alias 6 kHz to 2 kHz at full level; the filter leaves below −40 dB.
		expect(toneLevel(out, 2000, 8000)).toBeLessThan(0.005);
	});

	it('stereo: left agent and right customer by default, swappable, or mixed to one speaker', async () => {
		const left = synthesize(bursts(1, 0.5, 0.2, 300), 16000);
		const right = synthesize(bursts(1, 0.5, 0.2, 600), 16000);
		const file = wav([left, right], 16000);
		const byDefault = await prepareAudio(file, MONO);
		expect(byDefault.tracks.map((t) => t.speaker)).toEqual(['agent', 'customer']);
		const agent = fromMulaw(byDefault.tracks[0].mulaw);
		expect(toneLevel(agent, 300, 8000)).toBeGreaterThan(10 * toneLevel(agent, 600, 8000));
		const swapped = await prepareAudio(file, { ...MONO, stereoLayout: 'leftCustomerRightAgent' });
		expect(swapped.tracks.map((t) => t.speaker)).toEqual(['customer', 'agent']);
		const mixed = await prepareAudio(file, { ...MONO, monoSpeaker: 'agent', stereoLayout: 'mixToOneSpeaker' });
		expect(mixed.tracks.map((t) => t.speaker)).toEqual(['agent']);
	});

	it('refuses what it cannot use, naming the problem', async () => {
		expect(await problemOf(Buffer.from('<!DOCTYPE html><html><body>Not found</body></html>'))).toBe('not_audio');
		expect(await problemOf(Buffer.alloc(0))).toBe('not_audio');
		expect(await problemOf(wav([new Float32Array(0)], 8000))).toBe('empty');
		expect(await problemOf(wav([new Float32Array(8000)], 8000))).toBe('silent');
		expect(await problemOf(wav([synthesize([{ seconds: 3, frequency: 440 }], 8000)], 8000), { ...MONO, maxDurationSeconds: 2 })).toBe('too_long');
		const three = synthesize([{ seconds: 0.2, frequency: 440 }], 8000);
		expect(await problemOf(wav([three, three, three], 8000))).toBe('too_many_channels');
		const adpcm = wav([three], 8000);
		adpcm.writeUInt16LE(0x0011, 20);
		expect(await problemOf(adpcm)).toBe('unsupported_codec');
		expect(await problemOf(Buffer.concat([Buffer.from('OggS'), Buffer.alloc(100)]))).toMatch(/^(empty|corrupt)$/);
		expect(await problemOf(Buffer.concat([Buffer.from([0, 0, 0, 0x20]), Buffer.from('ftypM4A '), Buffer.alloc(100)]))).toBe('unsupported_codec');
		const vorbis = readFileSync(join(__dirname, 'fixtures', 'tone-1s-8k-mono.vorbis.ogg'));
		expect(await problemOf(vorbis)).toBe('unsupported_codec');
		await expect(prepareAudio(vorbis, MONO)).rejects.toThrow('The Ogg file holds vorbis, which is not supported (Ogg Opus is).');
		expect(await problemOf(wav([synthesize([{ seconds: 1, frequency: 440 }], 8000)], 8000).subarray(0, 30))).toBe('corrupt');
		expect(await problemOf(Buffer.concat([Buffer.from([0xff, 0xfb, 0x90, 0x00]), Buffer.alloc(2000)]))).toBe('silent');
	});
});

describe('prepareAudio: MP3', () => {
	it('decodes a 128 kbit/s MP3 (fixture made with LAME, see fixtures/README.md) to μ-law 8 kHz', async () => {
		const { readFileSync } = await import('fs');
		const { join } = await import('path');
		const bytes = readFileSync(join(__dirname, 'fixtures', 'bursts-2x0.6s-44k1-mono-128k.mp3'));
		const prepared = await prepareAudio(bytes, MONO);
		expect(prepared.source).toMatchObject({ container: 'mp3', codec: 'mp3', sampleRate: 44100, channels: 1 });
		// LAME adds encoder delay and padding (a few ms each side).
		expect(prepared.durationSeconds).toBeGreaterThan(2.95);
		expect(prepared.durationSeconds).toBeLessThan(3.2);
		const out = fromMulaw(prepared.tracks[0].mulaw);
		const tone = out.subarray(Math.round(0.7 * 8000), Math.round(1.1 * 8000));
		const silence = out.subarray(Math.round(1.3 * 8000), Math.round(1.7 * 8000));
		expect(toneLevel(tone, 440, 8000)).toBeGreaterThan(0.4);
		expect(toneLevel(silence, 440, 8000)).toBeLessThan(0.01);
	});
});

describe('prepareAudio: FLAC', () => {
	it('decodes a 16 kHz stereo FLAC (fixture made with flac, see fixtures/README.md): left agent, right customer', async () => {
		const { readFileSync } = await import('fs');
		const { join } = await import('path');
		const prepared = await prepareAudio(readFileSync(join(__dirname, 'fixtures', 'agent-then-customer-16k-stereo.flac')), MONO);
		expect(prepared.source).toMatchObject({ container: 'flac', codec: 'flac', sampleRate: 16000, channels: 2 });
		expect(prepared.durationSeconds).toBeCloseTo(2.4, 3);
		expect(prepared.tracks.map((t) => t.speaker)).toEqual(['agent', 'customer']);
		const [agent, customer] = prepared.tracks.map((t) => fromMulaw(t.mulaw));
		expect(toneLevel(agent.subarray(4000, 7200), 300, 8000)).toBeGreaterThan(0.4);
		expect(toneLevel(customer.subarray(4000, 7200), 500, 8000)).toBeLessThan(0.01);
		expect(toneLevel(customer.subarray(10400, 13600), 500, 8000)).toBeGreaterThan(0.4);
	});
});

describe('prepareAudio: Ogg Opus', () => {
	it('decodes a 24 kbit/s Ogg Opus voice note (fixture made with opusenc, see fixtures/README.md)', async () => {
		const { readFileSync } = await import('fs');
		const { join } = await import('path');
		const prepared = await prepareAudio(readFileSync(join(__dirname, 'fixtures', 'bursts-2x0.6s-mono-24k.opus')), MONO);
		expect(prepared.source).toMatchObject({ container: 'ogg', codec: 'opus', sampleRate: 48000, channels: 1 });
		expect(prepared.durationSeconds).toBeGreaterThan(2.95);
		expect(prepared.durationSeconds).toBeLessThan(3.1);
		const out = fromMulaw(prepared.tracks[0].mulaw);
		expect(toneLevel(out.subarray(Math.round(0.7 * 8000), Math.round(1.1 * 8000)), 440, 8000)).toBeGreaterThan(0.3);
		expect(toneLevel(out.subarray(Math.round(1.3 * 8000), Math.round(1.7 * 8000)), 440, 8000)).toBeLessThan(0.01);
	});
});
