/** Helpers for the sandbox's own jest tests: a REST caller and a recording WebSocket client. */
import { WebSocket } from 'ws';
import type { KallglotSandbox } from '../../sandbox/server';

export interface ApiResponse {
	status: number;
	headers: Headers;
	json: any;
}

export interface CallOptions {
	body?: unknown;
	/** Raw body text (overrides `body`). */
	rawBody?: string;
	headers?: Record<string, string>;
	/** API key sent as Bearer; null sends none. Default: the sandbox key. */
	apiKey?: string | null;
}

export async function api(sb: KallglotSandbox, method: string, path: string, options: CallOptions = {}): Promise<ApiResponse> {
	const headers: Record<string, string> = { ...options.headers };
	const apiKey = options.apiKey === undefined ? sb.apiKey : options.apiKey;
	if (apiKey !== null) headers.authorization = `Bearer ${apiKey}`;
	let body: string | undefined = options.rawBody;
	if (body === undefined && options.body !== undefined) body = JSON.stringify(options.body);
	if (body !== undefined) headers['content-type'] = 'application/json';
	const res = await fetch(`${sb.baseUrl}${path}`, { method, headers, body });
	const text = await res.text();
	return { status: res.status, headers: res.headers, json: text === '' ? null : JSON.parse(text) };
}

export async function createSession(sb: KallglotSandbox, body: unknown = { mode: 'bidirectional_translation' }): Promise<ApiResponse> {
	const res = await api(sb, 'POST', '/sessions', { body });
	if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.json)}`);
	return res;
}

/** Polls `condition` until true (or fails after `timeoutMs`). */
export async function eventually(condition: () => boolean, timeoutMs = 2000, what = 'condition'): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!condition()) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 5));
	}
}

export class HandshakeRefused extends Error {
	constructor(
		readonly status: number,
		readonly body: any,
	) {
		super(`handshake refused with ${status}`);
	}
}

type Frame = any;

/** A WebSocket client that records every frame (parsed JSON, or the raw text when not JSON). */
export class StreamClient {
	readonly frames: Frame[] = [];
	readonly closed: Promise<{ code: number; reason: string }>;
	private readonly frameListeners = new Set<(frame: Frame) => void>();

	private constructor(readonly ws: WebSocket) {
		ws.on('error', () => undefined); // refusals and drops are asserted through `closed` / connect()
		ws.on('message', (data) => {
			const text = data.toString();
			let frame: Frame;
			try {
				frame = JSON.parse(text);
			} catch {
				frame = text;
			}
			this.frames.push(frame);
			for (const listener of [...this.frameListeners]) listener(frame);
		});
		this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
	}

	/** Opens `url` (stream.url with ?token=…); rejects with HandshakeRefused on an HTTP refusal. */
	static connect(url: string): Promise<StreamClient> {
		return new Promise((resolve, reject) => {
			const ws = new WebSocket(url);
			const client = new StreamClient(ws);
			ws.once('open', () => resolve(client));
			ws.once('unexpected-response', (req, res) => {
				let text = '';
				res.on('data', (chunk: Buffer) => (text += chunk.toString()));
				res.on('end', () => {
					req.destroy();
					reject(new HandshakeRefused(res.statusCode ?? 0, text === '' ? null : JSON.parse(text)));
				});
			});
			ws.once('error', reject);
		});
	}

	static async forSession(session: { stream: { url: string; token: string } }): Promise<StreamClient> {
		return StreamClient.connect(`${session.stream.url}?token=${session.stream.token}`);
	}

	send(frame: unknown): void {
		this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
	}

	/** The first frame (already received or upcoming) matching `predicate`. */
	waitFor(predicate: (frame: Frame) => boolean, timeoutMs = 3000): Promise<Frame> {
		const found = this.frames.find(predicate);
		if (found !== undefined) return Promise.resolve(found);
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				this.frameListeners.delete(listener);
				reject(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames)}`));
			}, timeoutMs);
			const listener = (frame: Frame): void => {
				if (!predicate(frame)) return;
				clearTimeout(timer);
				this.frameListeners.delete(listener);
				resolve(frame);
			};
			this.frameListeners.add(listener);
		});
	}

	waitForType(type: string, timeoutMs?: number): Promise<Frame> {
		return this.waitFor((f) => f?.type === type, timeoutMs);
	}

	/** Asserts that nothing matching arrives within `ms`. */
	async expectNone(predicate: (frame: Frame) => boolean, ms = 150): Promise<void> {
		await new Promise((resolve) => setTimeout(resolve, ms));
		const found = this.frames.find(predicate);
		if (found !== undefined) throw new Error(`unexpected frame ${JSON.stringify(found)}`);
	}

	async close(): Promise<void> {
		if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000);
		await this.closed;
	}
}

/** Frames without the finals' `timestamp`, for comparison with expectedCallFrames(). */
export function withoutTimestamps(frames: Frame[]): Frame[] {
	return frames.map((f) => {
		if (typeof f !== 'object' || f === null) return f;
		const copy = { ...f };
		delete copy.timestamp;
		return copy;
	});
}
