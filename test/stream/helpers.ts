/**
 * Shared helpers of the stream client tests: a sandbox session, a REST-backed resolveEndpoint
 * (what the trigger does with GET /v1/sessions/{id}), a client with recorded callbacks, waits.
 */
import type { WebSocket } from 'ws';
import { KallglotSandbox } from '../../sandbox';
import {
	KallglotStreamClient,
	type EndpointResult,
	type StreamClientOptions,
	type StreamProblem,
} from '../../nodes/shared/stream/client';
import type { StreamClientError } from '../../nodes/shared/stream/errors';
import type { StreamEvent } from '../../nodes/shared/wire';
import { systemClock } from '../../nodes/shared/clock';

export interface SessionBody {
	id: string;
	status: string;
	stream?: { url: string; token: string; expires_at: string } | null;
}

export async function api(sandbox: KallglotSandbox, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
	const res = await fetch(`${sandbox.baseUrl}${path}`, {
		method,
		headers: { Authorization: `Bearer ${sandbox.apiKey}`, 'Content-Type': 'application/json' },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const text = await res.text();
	return { status: res.status, json: text ? JSON.parse(text) : null };
}

export async function createSession(sandbox: KallglotSandbox): Promise<SessionBody> {
	const { status, json } = await api(sandbox, 'POST', '/sessions', { mode: 'bidirectional_translation' });
	if (status !== 201) throw new Error(`create session failed: ${status}`);
	return json as SessionBody;
}

/** An error a resolver throws; `permanent` stops the client's reconnects. */
export class ResolveError extends Error {
	constructor(
		message: string,
		readonly permanent: boolean,
	) {
		super(message);
	}
}

/** resolveEndpoint as the trigger implements it: GET /v1/sessions/{id} for a fresh token each attempt. */
export function restResolver(sandbox: KallglotSandbox, sessionId: string, calls: number[] = []) {
	return async (attempt: number): Promise<EndpointResult> => {
		calls.push(attempt);
		const { status, json } = await api(sandbox, 'GET', `/sessions/${sessionId}`);
		if (status === 401 || status === 404) throw new ResolveError(`GET session failed with ${status}`, true);
		if (status !== 200) throw new ResolveError(`GET session failed with ${status}`, false);
		const session = json as SessionBody;
		if (session.status === 'ended' || !session.stream) return { kind: 'ended' };
		return { kind: 'live', endpoint: { url: session.stream.url, token: session.stream.token } };
	};
}

export interface Recorder {
	events: StreamEvent[];
	problems: StreamProblem[];
	reconnected: Array<{ attempts: number; downtimeMs: number }>;
	ended: Array<string | null>;
	gaveUp: StreamClientError[];
	logs: Array<{ level: string; msg: string; at: number }>;
	/** Every callback invocation, in order, with its time. */
	calls: Array<{ name: string; at: number }>;
}

export function recorder(): Recorder {
	return { events: [], problems: [], reconnected: [], ended: [], gaveUp: [], logs: [], calls: [] };
}

/** Fast timings for tests. */
export const FAST = {
	pingIntervalMs: 100,
	connectTimeoutMs: 1000,
	reconnect: { initialDelayMs: 10, maxDelayMs: 50, multiplier: 2, jitter: 0.3, maxAttempts: 5 },
} satisfies Partial<StreamClientOptions>;

export function recordingClient(
	rec: Recorder,
	options: Partial<StreamClientOptions> & Pick<StreamClientOptions, 'resolveEndpoint'>,
): KallglotStreamClient {
	const clock = options.clock ?? systemClock;
	const at = () => clock.now();
	const logAt = (level: string) => (msg: string) => rec.logs.push({ level, msg, at: at() });
	return new KallglotStreamClient({
		...FAST,
		clock: systemClock,
		onEvent: (e) => {
			rec.calls.push({ name: 'onEvent', at: at() });
			rec.events.push(e);
		},
		onProblem: (p) => {
			rec.calls.push({ name: 'onProblem', at: at() });
			rec.problems.push(p);
		},
		onReconnected: (info) => {
			rec.calls.push({ name: 'onReconnected', at: at() });
			rec.reconnected.push(info);
		},
		onEnded: (reason) => {
			rec.calls.push({ name: 'onEnded', at: at() });
			rec.ended.push(reason);
		},
		onGiveUp: (error) => {
			rec.calls.push({ name: 'onGiveUp', at: at() });
			rec.gaveUp.push(error);
		},
		log: { debug: logAt('debug'), info: logAt('info'), warn: logAt('warn'), error: logAt('error') },
		...options,
	});
}

/**
 * The hooks of a stream test file: one sandbox for the whole file, handed to `onStarted` once it
 * listens and closed after the last test, and every client passed to the returned `track` closed
 * after each test.
 */
export function sandboxPerFile(onStarted: (sandbox: KallglotSandbox) => void): <T extends KallglotStreamClient>(client: T) => T {
	let sandbox: KallglotSandbox | undefined;
	const clients: KallglotStreamClient[] = [];
	beforeAll(async () => {
		sandbox = await KallglotSandbox.start();
		onStarted(sandbox);
	});
	afterEach(async () => {
		await Promise.all(clients.splice(0).map((c) => c.close()));
	});
	afterAll(async () => {
		await sandbox?.close();
	});
	return (client) => (clients.push(client), client);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function waitFor(what: string, predicate: () => boolean, timeoutMs = 3000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!predicate()) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await sleep(5);
	}
}

export function handshakesOf(sandbox: KallglotSandbox, sessionId: string) {
	return sandbox.handshakes.filter((h) => h.sessionId === sessionId);
}

/** The sandbox's server-side sockets of a session (it has no public way to send a binary frame). */
export function serverSockets(sandbox: KallglotSandbox, sessionId: string): WebSocket[] {
	const hub = (sandbox as unknown as { hub: { connections: Map<string, Set<{ ws: WebSocket }>> } }).hub;
	return [...(hub.connections.get(sessionId) ?? [])].map((c) => c.ws);
}

/** Active timers of the process (ours, jest's, the sandbox's). */
export const activeTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/** Every secret a test must never find in a log line or an error message. */
export function secretsOf(sandbox: KallglotSandbox): string[] {
	return [...new Set(sandbox.handshakes.map((h) => h.token).filter((t): t is string => !!t)), sandbox.apiKey];
}

/** Throws when any secret appears in any of `texts`. */
export function expectNoSecrets(texts: string[], secrets: string[]): void {
	for (const text of texts) {
		for (const secret of secrets) {
			if (text.includes(secret)) throw new Error(`secret leaked into: ${text.replace(secret, '<SECRET>')}`);
		}
	}
}
