/**
 * The stream's sockets: the one place a WebSocket is created (connection options such as an
 * agent go here), and the sockets taken out of service until they have closed.
 */
// eslint-disable-next-line @n8n/community-nodes/no-restricted-imports -- the stream is a WebSocket and ws is its client: a stated exception that keeps the package self-hosted only
import WebSocket, { type RawData } from 'ws';
import { type Clock, type TimerHandle, withTimeout } from '../clock';

export { WebSocket, type RawData };

/**
 * A new socket to `url` (token included). `maxPayload`: ws closes the connection above it.
 * `agent`: a proxy tunnel (shared/proxy.ts), or undefined to connect directly.
 */
export function openStreamSocket(url: string, maxPayload: number, agent?: WebSocket.ClientOptions['agent']): WebSocket {
	return new WebSocket(url, { maxPayload, agent });
}

interface RetiringSocket {
	/** Resolves once the socket emitted 'close'. */
	closed: Promise<void>;
	/** Terminates now (idempotent). */
	force(): void;
}

const noop = () => undefined;
/** A terminated socket reports 'close' within a tick or two; bounded anyway. */
const TERMINATE_WAIT_MS = 250;

/** Sockets taken out of service and not closed yet. */
export class RetiringSockets {
	private readonly entries = new Set<RetiringSocket>();

	constructor(private readonly clock: Clock) {}

	get size(): number {
		return this.entries.size;
	}

	/**
	 * Takes a socket out of service: removes all its listeners (one no-op 'error' listener stays
	 * until 'close', so a late ws error cannot crash the process), then closes it with 1000
	 * (graceful, with a terminate after `timeoutMs`) or terminates it.
	 */
	retire(socket: WebSocket, graceful: boolean, timeoutMs = 2000): void {
		socket.removeAllListeners();
		if (socket.readyState === WebSocket.CLOSED) return;
		socket.on('error', noop);
		let timer: TimerHandle | null = null;
		let resolveClosed: () => void = noop;
		const entry: RetiringSocket = {
			closed: new Promise<void>((resolve) => (resolveClosed = resolve)),
			force: () => {
				if (timer) this.clock.clearTimeout(timer);
				timer = null;
				try {
					socket.terminate();
				} catch {
					// already closed
				}
			},
		};
		this.entries.add(entry);
		socket.once('close', () => {
			if (timer) this.clock.clearTimeout(timer);
			timer = null;
			socket.removeAllListeners();
			this.entries.delete(entry);
			resolveClosed();
		});
		if (graceful && socket.readyState === WebSocket.OPEN) {
			try {
				socket.close(1000);
				timer = this.clock.setTimeout(entry.force, timeoutMs);
			} catch {
				entry.force();
			}
		} else {
			entry.force();
		}
	}

	/** Waits up to `timeoutMs` for every socket to close, then terminates the rest. */
	async drain(timeoutMs: number): Promise<void> {
		const entries = [...this.entries];
		if (entries.length === 0) return;
		await withTimeout(this.clock, Promise.all(entries.map((e) => e.closed)), timeoutMs);
		for (const entry of entries) entry.force();
		await withTimeout(this.clock, Promise.all(entries.map((e) => e.closed)), TERMINATE_WAIT_MS);
	}
}
