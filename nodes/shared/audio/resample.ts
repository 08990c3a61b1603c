/**
 * Streaming sample-rate conversion with an anti-aliasing low-pass: a Blackman-windowed sinc,
 * evaluated as a polyphase table (the fractional position is quantized to 1/PHASES of an input
 * sample, far below what 8-bit μ-law can show). The cutoff sits below the lower of the two
 * Nyquist frequencies, so nothing above 4 kHz folds back into a telephone-band output.
 *
 * Blocks of any size go in; output comes out as soon as the filter has the input it needs; flush()
 * pads the end with silence. One instance per channel. Memory: the table plus one filter span.
 */

/** Fractional positions per input sample in the table. */
const PHASES = 256;
/** Zero crossings of the sinc on each side of the centre: the filter's length and sharpness. */
const ZERO_CROSSINGS = 16;
/** Passband edge as a fraction of the lower Nyquist frequency (3.2 kHz for an 8 kHz output). */
const CUTOFF = 0.8;

function blackman(x: number): number {
	// x in [-1, 1]
	const t = Math.PI * (x + 1);
	return 0.42 - 0.5 * Math.cos(t) + 0.08 * Math.cos(2 * t);
}

interface Kernel {
	/** Taps per output sample. */
	taps: number;
	/** Offset of the first tap from floor(position). */
	first: number;
	/** PHASES rows of `taps` coefficients, each row summing to 1. */
	table: Float32Array;
}

function buildKernel(inRate: number, outRate: number): Kernel {
	const fc = CUTOFF * Math.min(1, outRate / inRate); // cycles per input sample × 2
	const halfWidth = ZERO_CROSSINGS / fc; // in input samples
	const first = -Math.ceil(halfWidth) + 1;
	const taps = 2 * Math.ceil(halfWidth);
	const table = new Float32Array(PHASES * taps);
	for (let p = 0; p < PHASES; p++) {
		const frac = p / PHASES;
		let sum = 0;
		for (let j = 0; j < taps; j++) {
			const x = first + j - frac; // distance of tap from the output position, in input samples
			const w = Math.abs(x) >= halfWidth ? 0 : blackman(x / halfWidth);
			const arg = Math.PI * fc * x;
			const h = (x === 0 ? 1 : Math.sin(arg) / arg) * w;
			table[p * taps + j] = h;
			sum += h;
		}
		for (let j = 0; j < taps; j++) table[p * taps + j] /= sum;
	}
	return { taps, first, table };
}

export class Resampler {
	private readonly kernel: Kernel | null;
	private readonly step: number;
	/** Input samples kept: from index `bufferStart` (absolute) on. */
	private buffer: Float32Array;
	private bufferLength = 0;
	private bufferStart = 0;
	/** Absolute input position of the next output sample. */
	private position = 0;
	private inputCount = 0;
	private outputCount = 0;

	constructor(
		readonly inRate: number,
		readonly outRate: number,
	) {
		if (!(inRate > 0 && outRate > 0)) throw new RangeError('sample rates must be positive');
		this.step = inRate / outRate;
		this.kernel = inRate === outRate ? null : buildKernel(inRate, outRate);
		this.buffer = new Float32Array(this.kernel ? this.kernel.taps * 4 + 4096 : 0);
	}

	/** Converts the next block of input; returns the output samples it completes. */
	push(input: Float32Array): Float32Array {
		this.inputCount += input.length;
		if (this.kernel === null) {
			this.outputCount += input.length;
			return input.slice();
		}
		this.append(input);
		return this.drain(false);
	}

	/** The remaining output, as if the input were followed by silence; the total output length is round(input × outRate / inRate). */
	flush(): Float32Array {
		if (this.kernel === null) return new Float32Array(0);
		this.append(new Float32Array(this.kernel.taps));
		return this.drain(true);
	}

	private append(input: Float32Array): void {
		const needed = this.bufferLength + input.length;
		if (needed > this.buffer.length) {
			const grown = new Float32Array(Math.max(needed, this.buffer.length * 2));
			grown.set(this.buffer.subarray(0, this.bufferLength));
			this.buffer = grown;
		}
		this.buffer.set(input, this.bufferLength);
		this.bufferLength += input.length;
	}

	private drain(final: boolean): Float32Array {
		const { taps, first, table } = this.kernel as Kernel;
		const available = this.bufferStart + this.bufferLength; // absolute end of input held
		const total = final ? Math.round((this.inputCount * this.outRate) / this.inRate) : Infinity;
		// Output n needs input up to floor(position) + first + taps - 1.
		const last = first + taps - 1;
		let count = Math.max(0, Math.floor((available - 1 - last - this.position) / this.step) + 1);
		count = Math.min(count, total - this.outputCount);
		const out = new Float32Array(Math.max(0, count));
		const buffer = this.buffer;
		for (let n = 0; n < out.length; n++) {
			const pos = this.position + n * this.step;
			const base = Math.floor(pos);
			const phase = Math.min(PHASES - 1, Math.round((pos - base) * PHASES));
			const row = phase * taps;
			let start = base + first - this.bufferStart;
			let acc = 0;
			let j = 0;
			// Before the first input sample the signal is silence.
			if (start < 0) {
				j = -start;
				start = 0;
			}
			for (let k = start; j < taps; j++, k++) acc += buffer[k] * table[row + j];
			out[n] = acc;
		}
		this.position += out.length * this.step;
		this.outputCount += out.length;
		// Drop input no later output needs.
		const keepFrom = Math.max(this.bufferStart, Math.floor(this.position) + first);
		const drop = keepFrom - this.bufferStart;
		if (drop > 0) {
			this.buffer.copyWithin(0, drop, this.bufferLength);
			this.bufferLength -= drop;
			this.bufferStart = keepFrom;
		}
		return out;
	}
}
