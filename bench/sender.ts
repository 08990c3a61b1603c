/**
 * The benchmark's sender: a minimal Kallglot-stream stand-in run in its OWN process
 * (child_process.fork from bench/), so the receivers measured in the parent do not share a thread
 * with it. It speaks just enough WebSocket (RFC 6455, no extensions) to be cheap: frames are
 * framed by hand and written straight to the socket, so the sender is never the bottleneck.
 *
 * Every connection gets `session.ready` at once. Commands arrive over IPC:
 *   { cmd: 'flood', count }        count transcript.final frames to every open socket, as fast as the socket takes them
 *   { cmd: 'pace', rate, count }    count frames at `rate`/s to every open socket
 *   { cmd: 'fanout', seconds }      one frame per second to each open socket, staggered across the second
 *   { cmd: 'count' }                how many sockets are open
 *   { cmd: 'stop' }                 closes everything and exits
 * Replies: { type: 'listening', port }, { type: 'done', cmd, sentAtUs: number[] (by sequence) }, { type: 'count', open }.
 * Times are CLOCK_MONOTONIC microseconds (process.hrtime), comparable across processes on one machine.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { nowUs } from './util';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const sockets = new Set<Socket>();

function frameHeader(length: number): Buffer {
	if (length < 126) return Buffer.from([0x81, length]);
	if (length < 65536) return Buffer.from([0x81, 126, length >> 8, length & 0xff]);
	const header = Buffer.alloc(10);
	header[0] = 0x81;
	header[1] = 127;
	header.writeBigUInt64BE(BigInt(length), 2);
	return header;
}

function textFrame(text: string): Buffer {
	const payload = Buffer.from(text, 'utf8');
	return Buffer.concat([frameHeader(payload.length), payload]);
}

/** A transcript.final as Kallglot sends it, plus the send time. */
function finalFrame(sequence: number, sentAtUs: number): Buffer {
	return textFrame(
		`{"type":"transcript.final","speaker":"${sequence % 2 ? 'customer' : 'agent'}","language":"es",` +
			`"text":"Hola, buenos días. Llamo para cambiar mi cita del jueves.","sequence":${sequence},` +
			`"timestamp":"2026-12-01T20:00:00.000Z","translation":{"language":"en","text":"Hello, good morning. I'm calling to change my Thursday appointment."},` +
			`"sent_at_us":${Math.round(sentAtUs)}}`,
	);
}

/** Reads client frames just far enough to answer a close (so receivers close without waiting). */
function watchClientFrames(socket: Socket): void {
	let pending = Buffer.alloc(0);
	socket.on('data', (chunk: Buffer) => {
		pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
		while (pending.length >= 2) {
			const opcode = pending[0] & 0x0f;
			let length = pending[1] & 0x7f;
			let offset = 2;
			if (length === 126) {
				if (pending.length < 4) return;
				length = pending.readUInt16BE(2);
				offset = 4;
			} else if (length === 127) {
				if (pending.length < 10) return;
				length = Number(pending.readBigUInt64BE(2));
				offset = 10;
			}
			const total = offset + 4 + length; // client frames are masked
			if (pending.length < total) return;
			pending = pending.subarray(total);
			if (opcode === 0x8) {
				socket.end(Buffer.from([0x88, 0x02, 0x03, 0xe8]));
				return;
			}
		}
	});
}

const server = createServer((_req, res) => res.writeHead(404).end());
server.on('upgrade', (req, socket: Socket) => {
	const key = String(req.headers['sec-websocket-key'] ?? '');
	const accept = createHash('sha1').update(key + GUID).digest('base64');
	socket.setNoDelay(true);
	socket.on('error', () => undefined);
	socket.write(
		`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
	);
	socket.write(textFrame(JSON.stringify({ type: 'session.ready', session_id: 'sess_bench' })));
	sockets.add(socket);
	socket.on('close', () => sockets.delete(socket));
	watchClientFrames(socket);
});

const reply = (message: unknown) => process.send?.(message);
const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

async function flood(count: number): Promise<void> {
	const t = nowUs();
	const frames: Buffer[] = [];
	for (let seq = 1; seq <= count; seq++) frames.push(finalFrame(seq, t));
	const all = Buffer.concat(frames);
	for (const socket of sockets) socket.write(all);
	reply({ type: 'done', cmd: 'flood', sentAtUs: [] });
}

async function pace(rate: number, count: number): Promise<void> {
	const sentAtUs = new Array<number>(count + 1).fill(0);
	const start = nowUs();
	let sent = 0;
	while (sent < count) {
		const due = Math.min(count, Math.floor(((nowUs() - start) / 1e6) * rate) + 1);
		while (sent < due) {
			const seq = ++sent;
			const at = nowUs();
			sentAtUs[seq] = at;
			const frame = finalFrame(seq, at);
			for (const socket of sockets) socket.write(frame);
		}
		await tick();
	}
	reply({ type: 'done', cmd: 'pace', sentAtUs });
}

async function fanout(seconds: number): Promise<void> {
	const targets = [...sockets];
	const n = targets.length;
	const count = n * seconds;
	const sentAtUs = new Array<number>(count + 1).fill(0);
	const start = nowUs();
	let sent = 0;
	while (sent < count) {
		const due = Math.min(count, Math.floor(((nowUs() - start) / 1e6) * n) + 1);
		while (sent < due) {
			const seq = ++sent;
			const at = nowUs();
			sentAtUs[seq] = at;
			targets[(seq - 1) % n].write(finalFrame(seq, at));
		}
		await tick();
	}
	reply({ type: 'done', cmd: 'fanout', sentAtUs });
}

process.on('message', (message: { cmd: string; count?: number; rate?: number; seconds?: number }) => {
	switch (message.cmd) {
		case 'flood':
			void flood(message.count ?? 0);
			break;
		case 'pace':
			void pace(message.rate ?? 1000, message.count ?? 0);
			break;
		case 'fanout':
			void fanout(message.seconds ?? 1);
			break;
		case 'count':
			reply({ type: 'count', open: sockets.size });
			break;
		case 'stop':
			for (const socket of sockets) socket.destroy();
			server.close();
			process.disconnect?.();
			break;
	}
});
// The parent going away (even by a crash) ends the sender.
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => reply({ type: 'listening', port: (server.address() as AddressInfo).port }));
