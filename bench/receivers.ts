/**
 * The three receivers the stream benchmark compares, each connected to the sender's URL and
 * calling `onFinal(sequence)` once per transcript.final it delivers:
 * - floor:    a bare `ws` client doing only JSON.parse (what any receiver must at least do);
 * - client:   our KallglotStreamClient (size checks, validation, dedupe, counters, callbacks);
 * - listener: the trigger's SessionListener (client + event selection + item mapping + the memory
 *   of emitted finals + flow control + emit).
 */
import { systemClock } from '../nodes/shared/clock';
import WebSocket from 'ws';
import { EmittedFinals, KallglotStreamClient } from '../nodes/shared/stream';
import { SessionListener } from '../nodes/KallglotTrigger/listener';
import type { SessionResponse } from '../nodes/shared/wire';

export const RECEIVERS = ['floor', 'client', 'listener'] as const;
export type ReceiverKind = (typeof RECEIVERS)[number];

export interface Receiver {
	close(): Promise<void>;
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** Opens one receiver; resolves once its stream is ready (session.ready arrived). */
export async function openReceiver(kind: ReceiverKind, url: string, onFinal: (sequence: number) => void): Promise<Receiver> {
	const endpoint = { url, token: 'kst_bench' };
	switch (kind) {
		case 'floor': {
			const socket = new WebSocket(`${url}?token=${endpoint.token}`);
			await new Promise<void>((resolve, reject) => {
				socket.once('error', reject);
				socket.on('message', (data) => {
					const frame = JSON.parse(data.toString());
					if (frame.type === 'transcript.final') onFinal(frame.sequence);
					else if (frame.type === 'session.ready') resolve();
				});
			});
			return {
				close: () =>
					new Promise<void>((resolve) => {
						if (socket.readyState === WebSocket.CLOSED) return resolve();
						socket.once('close', () => resolve());
						socket.close(1000);
					}),
			};
		}
		case 'client': {
			const client = new KallglotStreamClient({
				clock: systemClock,
				resolveEndpoint: async () => ({ kind: 'live', endpoint }),
				onEvent: (event) => {
					if (event.type === 'transcript.final') onFinal(event.sequence as number);
				},
			});
			await client.start();
			return { close: () => client.close() };
		}
		case 'listener': {
			const session = {
				id: 'sess_bench',
				status: 'active',
				source_language: 'es',
				target_language: 'en',
				stream: endpoint,
			} as SessionResponse;
			const listener = new SessionListener({
				clock: systemClock,
				source: { kind: 'existing', sessionId: session.id },
				selection: {
					events: new Set(['finals']),
					speakers: new Set(),
					languages: new Set(),
					includeRaw: false,
					passUnknown: false,
				},
				emitAs: 'event',
				batch: { maxEvents: 1, maxWaitMs: 1000 },
				// The node's defaults: in order, one execution at a time, 100 items waiting at most.
				flow: { concurrency: 1, maxQueued: 100 },
				emitted: new EmittedFinals({}),
				emitReconnects: true,
				endCreatedSessionOnClose: false,
				manual: false,
				stream: {},
				// The Kallglot REST API is not what is measured here: the session is known up front.
				api: {
					create: async () => session,
					get: async () => session,
					end: async () => undefined,
				},
				emit: (item) => {
					// A backlog the flow control coalesced arrives as one session.batch item.
					if (Array.isArray(item.items)) for (const inner of item.items) onFinal(inner.sequence as number);
					else onFinal(item.sequence as number);
				},
				emitError: (error) => console.error(`listener error: ${error.message}`),
				log: quiet,
			});
			await listener.start();
			return { close: () => listener.close() };
		}
	}
}
