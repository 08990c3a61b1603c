/**
 * A minimal Redis client (RESP2 over one TCP or TLS connection) for the webhook trigger's event
 * memory: a handful of commands, pipelined on one connection per Redis credential and process,
 * reconnected lazily after any failure. Each command has a deadline: a Redis that does not answer
 * fails the delivery (Kallglot retries it) instead of holding it. Plain TypeScript, no n8n.
 */
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';

export type RespValue = string | number | null | RespValue[];

export interface RedisCommands {
	send(args: ReadonlyArray<string | number>): Promise<RespValue>;
}

export interface RedisConnectionOptions {
	host: string;
	port: number;
	database?: number;
	user?: string;
	password?: string;
	/** TLS, optionally without verifying the server's certificate. */
	tls?: false | { rejectUnauthorized: boolean };
	/** Connecting, authenticating and each command. */
	timeoutMs?: number;
}

export const DEFAULT_REDIS_TIMEOUT_MS = 3_000;

/** An error reply (`-ERR …`). */
export class RedisReplyError extends Error {}

type Parsed = { value: RespValue | RedisReplyError; end: number } | null;

/** Parses one reply at `start`, or null when `buffer` does not hold all of it yet. */
export function parseReply(buffer: Buffer, start: number): Parsed {
	const stack: Array<{ items: RespValue[]; left: number }> = [];
	let at = start;
	for (;;) {
		const lineEnd = buffer.indexOf('\r\n', at);
		if (lineEnd < 0) return null;
		const kind = buffer[at];
		const line = buffer.toString('utf8', at + 1, lineEnd);
		at = lineEnd + 2;
		let value: RespValue | RedisReplyError;
		if (kind === 0x2b /* + */) value = line;
		else if (kind === 0x2d /* - */) value = new RedisReplyError(line);
		else if (kind === 0x3a /* : */) value = Number(line);
		else if (kind === 0x24 /* $ */) {
			const length = Number(line);
			if (length < 0) value = null;
			else {
				if (buffer.length < at + length + 2) return null;
				value = buffer.toString('utf8', at, at + length);
				at += length + 2;
			}
		} else if (kind === 0x2a /* * */) {
			const count = Number(line);
			if (count > 0) {
				stack.push({ items: [], left: count });
				continue;
			}
			value = count < 0 ? null : [];
		} else {
			throw new Error(`unexpected reply type ${String.fromCharCode(kind)}`);
		}
		// Fold finished values into the arrays that hold them.
		for (;;) {
			const open = stack[stack.length - 1];
			if (!open) return { value, end: at };
			open.items.push(value instanceof RedisReplyError ? value.message : value);
			if (--open.left > 0) break;
			stack.pop();
			value = open.items;
		}
	}
}

export function encodeCommand(args: ReadonlyArray<string | number>): Buffer {
	const parts = [`*${args.length}\r\n`];
	for (const arg of args) {
		const text = String(arg);
		parts.push(`$${Buffer.byteLength(text)}\r\n${text}\r\n`);
	}
	return Buffer.from(parts.join(''), 'utf8');
}

interface Waiting {
	resolve: (value: RespValue) => void;
	reject: (error: Error) => void;
	timer: ReturnType<typeof setTimeout>;
}

export class RespClient implements RedisCommands {
	private socket: Socket | null = null;
	private ready: Promise<void> | null = null;
	private buffer = Buffer.alloc(0);
	private readonly waiting: Waiting[] = [];

	constructor(private readonly options: RedisConnectionOptions) {}

	private get timeoutMs(): number {
		return this.options.timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS;
	}

	async send(args: ReadonlyArray<string | number>): Promise<RespValue> {
		await this.connect();
		return await this.write(args);
	}

	/** Closes the connection; a later send() opens a new one. */
	close(): void {
		this.fail(new Error('Redis connection closed'));
	}

	private connect(): Promise<void> {
		this.ready ??= this.open().catch((error: Error) => {
			this.fail(error);
			throw error;
		});
		return this.ready;
	}

	private async open(): Promise<void> {
		const { host, port, tls } = this.options;
		const socket = tls ? connectTls({ host, port, servername: host, rejectUnauthorized: tls.rejectUnauthorized }) : connectTcp({ host, port });
		this.socket = socket;
		// Never what keeps a process alive.
		socket.unref();
		socket.setNoDelay(true);
		socket.on('data', (chunk: Buffer) => this.receive(socket, chunk));
		socket.on('error', (error) => this.fail(error, socket));
		socket.on('close', () => this.fail(new Error('Redis connection closed'), socket));
		await new Promise<void>((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error(`no connection to Redis at ${host}:${port} within ${this.timeoutMs} ms`)), this.timeoutMs);
			socket.once(tls ? 'secureConnect' : 'connect', () => (clearTimeout(timer), resolve()));
			socket.once('error', (error) => (clearTimeout(timer), reject(error)));
		});
		const handshake: Array<Promise<RespValue>> = [];
		const { user, password, database } = this.options;
		if (password) handshake.push(this.write(user ? ['AUTH', user, password] : ['AUTH', password]));
		if (database) handshake.push(this.write(['SELECT', database]));
		await Promise.all(handshake);
	}

	private write(args: ReadonlyArray<string | number>): Promise<RespValue> {
		const socket = this.socket;
		if (!socket || socket.destroyed) return Promise.reject(new Error('Redis connection closed'));
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => this.fail(new Error(`Redis did not answer ${String(args[0])} within ${this.timeoutMs} ms`), socket), this.timeoutMs);
			this.waiting.push({ resolve, reject, timer });
			socket.write(encodeCommand(args));
		});
	}

	private receive(socket: Socket, chunk: Buffer): void {
		if (socket !== this.socket) return;
		this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
		let at = 0;
		for (;;) {
			let parsed: Parsed;
			try {
				parsed = parseReply(this.buffer, at);
			} catch (error) {
				this.fail(error as Error, socket);
				return;
			}
			if (!parsed) break;
			at = parsed.end;
			const next = this.waiting.shift();
			if (!next) continue;
			clearTimeout(next.timer);
			if (parsed.value instanceof RedisReplyError) next.reject(parsed.value);
			else next.resolve(parsed.value);
		}
		this.buffer = this.buffer.subarray(at);
	}

	/** Drops the connection (only if it is still `socket`) and fails every command waiting on it. */
	private fail(error: Error, socket: Socket | null = this.socket): void {
		if (socket !== this.socket) return;
		this.socket = null;
		this.ready = null;
		this.buffer = Buffer.alloc(0);
		socket?.destroy();
		for (const waiting of this.waiting.splice(0)) {
			clearTimeout(waiting.timer);
			waiting.reject(error);
		}
	}
}
