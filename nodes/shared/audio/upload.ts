/**
 * Streams prepared audio into a session (Kallglot's audio.input frames): waits for session.ready, sends the chunks
 * at real-time pace on an injected clock, keeps the finals, waits for a quiet period after the
 * last chunk (bounded), sends session.end and waits for session.ended.
 *
 * A drop mid-upload is reconnected by the stream client (fresh token per attempt); sending
 * resumes with the next unsent chunk and the schedule moves by the time lost, so the audio still
 * arrives at real-time pace. What was sent shortly before a drop may not have been heard: the
 * report counts it. Plain TypeScript, no n8n import.
 */
import {
	KallglotStreamClient,
	type EndpointResult,
	type StreamClientError,
	type StreamClientOptions,
	type ReconnectOptions,
	type StreamEndpoint,
	type StreamLogger,
} from '../stream';
import { clientFrames, type StreamEvent, type Translation } from '../wire';
import { CHUNK_MS, slotChunks, slotCount } from './chunks';
import { sleep, type Clock } from '../clock';
import type { PreparedAudio } from './prepare';

/** After the last chunk: no new transcript event for this long means Kallglot has finished. */
export const DEFAULT_QUIET_MS = 3000;
/** The quiet period is waited for at most this long after the last chunk. */
export const DEFAULT_MAX_QUIET_WAIT_MS = 30_000;
/** How long session.ready, and session.ended after session.end, may take. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Pings this often: a dead stream is noticed within two intervals, which bounds what may go unheard. */
export const UPLOAD_PING_INTERVAL_MS = 2000;

export interface HeardTurn {
	speaker: string;
	language: string | null;
	text: string;
	translation: Translation | null;
	sequence: number | null;
	timestamp: string | null;
}

export interface UploadPlan {
	audio: PreparedAudio;
	/** The stream of the created session (its first token). */
	endpoint: StreamEndpoint;
	/** A fresh URL and token for a reconnect (GET the session). */
	refreshEndpoint(): Promise<EndpointResult>;
	clock: Clock;
	signal?: AbortSignal;
	quietMs?: number;
	maxQuietWaitMs?: number;
	handshakeTimeoutMs?: number;
	pingIntervalMs?: number;
	reconnect?: ReconnectOptions;
	/** The proxy tunnel for the stream's URL (shared/proxy.ts), as for the REST calls; none: direct. */
	agentFor?: StreamClientOptions['agentFor'];
	log?: StreamLogger;
	/** Called after each slot went out (its chunks of every speaker), with the clock's time. */
	onSlotSent?(slot: number, at: number): void;
}

export interface UploadReport {
	finals: HeardTurn[];
	chunksSent: number;
	reconnects: number;
	/** Audio sent shortly before a drop, which Kallglot may not have heard (seconds, upper bound). */
	unheardSeconds: number;
	/** session.ended arrived after our session.end. */
	endConfirmed: boolean;
	endReason: string | null;
	/** Whether the quiet period was cut short by its bound. */
	quietBounded: boolean;
}

/** `already_ended`: the session had ended before its stream opened (an Idempotency-Key replay of an earlier run). */
export const UPLOAD_FAILURES = ['session_error', 'stream_lost', 'cancelled', 'ended_early', 'already_ended', 'connect'] as const;
export type UploadFailure = (typeof UPLOAD_FAILURES)[number];

export class UploadError extends Error {
	constructor(
		readonly kind: UploadFailure,
		message: string,
		/** Kallglot's code (session.error), when it sent one. */
		readonly code: string | null = null,
		/** Why the stream could not be opened ('connect'), to explain a network failure. */
		readonly streamError: StreamClientError | null = null,
	) {
		super(message);
		this.name = 'UploadError';
	}
}

/** Wakes waiting loops when anything happens on the stream. */
class Wakeup {
	private readonly waiters = new Set<() => void>();

	notify(): void {
		for (const wake of [...this.waiters]) wake();
	}

	/** Resolves after `ms` or at the next notify, whichever comes first. */
	async wait(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
		const timer = new AbortController();
		const onAbort = () => this.notify();
		signal?.addEventListener('abort', onAbort, { once: true });
		let wake: () => void = () => undefined;
		const woken = new Promise<void>((resolve) => (wake = resolve));
		this.waiters.add(wake);
		try {
			await Promise.race([sleep(clock, Math.max(0, ms), timer.signal), woken]);
		} finally {
			this.waiters.delete(wake);
			timer.abort();
			signal?.removeEventListener('abort', onAbort);
		}
	}
}

export async function uploadAudio(plan: UploadPlan): Promise<UploadReport> {
	const { clock, signal, audio } = plan;
	const quietMs = plan.quietMs ?? DEFAULT_QUIET_MS;
	const maxQuietWaitMs = plan.maxQuietWaitMs ?? DEFAULT_MAX_QUIET_WAIT_MS;
	const handshakeMs = plan.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
	const pingIntervalMs = plan.pingIntervalMs ?? UPLOAD_PING_INTERVAL_MS;
	const wakeup = new Wakeup();

	const finals: HeardTurn[] = [];
	let ready = false;
	let ended = false;
	let endReason: string | null = null;
	let endRequested = false;
	let failure: UploadError | null = null;
	let lastEventAt = clock.now();
	let reconnects = 0;
	let unheardSlots = 0;
	/** When each slot was sent (clock time), for the unheard estimate. */
	const sentAt: number[] = [];

	const onEvent = (event: StreamEvent): void => {
		switch (event.type) {
			case 'session.ready':
				ready = true;
				break;
			case 'transcript.partial':
				lastEventAt = clock.now();
				break;
			case 'transcript.final':
				lastEventAt = clock.now();
				finals.push({
					speaker: event.speaker,
					language: event.language,
					text: event.text,
					translation: event.translation,
					sequence: event.sequence,
					timestamp: event.timestamp,
				});
				break;
			case 'session.error':
				failure ??= new UploadError(
					'session_error',
					`Kallglot reported ${event.code ?? 'an error'}: ${event.message ?? 'no message'}`,
					event.code,
				);
				break;
			case 'session.ended':
				ended = true;
				endReason = event.reason;
				break;
			case 'pong':
			case 'unknown':
				break;
		}
		wakeup.notify();
	};

	const client = new KallglotStreamClient({
		// One clock for the pacing, the waits and the stream's own timers (keepalive, backoff).
		clock,
		resolveEndpoint: async (attempt) => (attempt === 0 ? { kind: 'live', endpoint: plan.endpoint } : await plan.refreshEndpoint()),
		onEvent,
		onReconnected: ({ downtimeMs }) => {
			reconnects++;
			// Slots sent within two ping intervals (plus one for the ping in flight) before the loss.
			const lostAt = clock.now() - downtimeMs;
			const from = lostAt - 3 * pingIntervalMs;
			unheardSlots += sentAt.filter((at) => at >= from && at <= lostAt).length;
			wakeup.notify();
		},
		onEnded: (reason) => {
			ended = true;
			endReason ??= reason;
			wakeup.notify();
		},
		onGiveUp: (error) => {
			failure ??= new UploadError('stream_lost', `The stream to Kallglot was lost: ${error.message}`);
			wakeup.notify();
		},
		log: plan.log,
		pingIntervalMs,
		connectTimeoutMs: handshakeMs,
		reconnect: plan.reconnect,
		agentFor: plan.agentFor,
	});

	const check = (): void => {
		if (failure) throw failure;
		if (signal?.aborted) throw new UploadError('cancelled', 'The execution was cancelled');
		if (ended && !endRequested) {
			throw new UploadError('ended_early', `Kallglot ended the session before the audio was sent${endReason ? ` (${endReason})` : ''}`);
		}
	};
	/** Waits until `done()` holds or `ms` passed; false on timeout. */
	const waitFor = async (done: () => boolean, ms: number): Promise<boolean> => {
		const until = clock.now() + ms;
		while (!done()) {
			check();
			const left = until - clock.now();
			if (left <= 0) return false;
			await wakeup.wait(clock, left, signal);
		}
		return true;
	};

	let completed = false;
	try {
		check();
		const startError = await client.start().then(
			() => null,
			(error: unknown) => error as StreamClientError,
		);
		if (startError?.kind === 'ended') throw new UploadError('already_ended', 'The session had already ended');
		if (startError) throw new UploadError('connect', `Could not open the session's stream: ${startError.message}`, null, startError);
		if (!(await waitFor(() => ready, handshakeMs))) {
			throw new UploadError('connect', `Kallglot did not send session.ready within ${handshakeMs} ms`);
		}

		const slots = slotCount(audio);
		let anchor = clock.now();
		let chunksSent = 0;
		for (let slot = 0; slot < slots; slot++) {
			const due = anchor + slot * CHUNK_MS;
			while (clock.now() < due) {
				check();
				await wakeup.wait(clock, due - clock.now(), signal);
			}
			for (const chunk of slotChunks(audio, slot)) {
				const frame = clientFrames.audioInput(chunk);
				check();
				if (!client.send(frame)) {
					// Disconnected: wait for the client's reconnect, then go on with this chunk.
					const pausedAt = clock.now();
					while (!client.send(frame)) {
						check();
						await wakeup.wait(clock, CHUNK_MS, signal);
					}
					anchor += clock.now() - pausedAt;
				}
				chunksSent++;
			}
			sentAt.push(clock.now());
			plan.onSlotSent?.(slot, clock.now());
		}

		// Kallglot has finished when no transcript event came for quietMs (bounded).
		const uploadEnd = clock.now();
		lastEventAt = Math.max(lastEventAt, uploadEnd);
		let quietBounded = false;
		for (;;) {
			check();
			const now = clock.now();
			const quietUntil = lastEventAt + quietMs;
			const cap = uploadEnd + maxQuietWaitMs;
			if (now >= quietUntil) break;
			if (now >= cap) {
				quietBounded = true;
				break;
			}
			await wakeup.wait(clock, Math.min(quietUntil, cap) - now, signal);
		}

		endRequested = true;
		const sent = await waitFor(() => client.send(clientFrames.end()), handshakeMs);
		const endConfirmed = sent && (await waitFor(() => ended, handshakeMs));
		if (failure) throw failure;
		completed = true;
		return {
			finals,
			chunksSent,
			reconnects,
			unheardSeconds: (unheardSlots * CHUNK_MS) / 1000,
			endConfirmed,
			endReason,
			quietBounded,
		};
	} finally {
		// Failed or cancelled before the end: end the session on the stream if it is up (a REST end
		// can be cut short by n8n's cancellation; the caller tries one as well).
		if (!completed && !endRequested && !ended && client.send(clientFrames.end())) {
			endRequested = true;
			const deadline = clock.now() + Math.min(handshakeMs, 2000);
			while (!ended && clock.now() < deadline) await wakeup.wait(clock, deadline - clock.now());
		}
		await client.close();
	}
}
