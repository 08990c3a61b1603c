/** Small helpers the benchmark parts share: child processes that always stop, and statistics. */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const nowUs = (): number => {
	const [s, ns] = process.hrtime();
	return s * 1e6 + ns / 1e3;
};

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Every child the benchmark forks, and process groups it started (n8n); stopped on exit whatever happens. */
const children = new Set<ChildProcess>();
const groups = new Set<() => number | undefined>();
function stopAllChildren() {
	for (const child of children) if (child.exitCode === null && child.pid) child.kill('SIGKILL');
	for (const pid of groups) {
		const id = pid();
		if (!id) continue;
		try {
			process.kill(-id, 'SIGKILL');
		} catch {
			// already gone
		}
	}
}

/** A process group (e.g. n8n's, which restarts change) killed if the benchmark exits without stopping it. */
export function killGroupOnExit(pid: () => number | undefined): () => void {
	groups.add(pid);
	return () => void groups.delete(pid);
}
process.on('exit', stopAllChildren);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
	process.on(signal, () => {
		stopAllChildren();
		process.exit(130);
	});
}

export interface Child {
	process: ChildProcess;
	send(message: unknown): void;
	/** The next message of this `type` (optionally matching), or a rejection after timeoutMs. */
	next<T = any>(type: string, timeoutMs?: number): Promise<T>;
	stop(): Promise<void>;
}

/** Forks a bench/ script with the parent's flags (tsx loader, --expose-gc). */
export function forkChild(script: string, args: string[] = []): Child {
	const child = fork(join(__dirname, script), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
	children.add(child);
	child.once('exit', () => children.delete(child));
	const inbox: any[] = [];
	const waiters: Array<{ type: string; resolve: (m: any) => void }> = [];
	child.on('message', (message: any) => {
		const i = waiters.findIndex((w) => w.type === message?.type);
		if (i >= 0) waiters.splice(i, 1)[0].resolve(message);
		else inbox.push(message);
	});
	return {
		process: child,
		send: (message) => child.send(message as never),
		next(type, timeoutMs = 60_000) {
			const i = inbox.findIndex((m) => m?.type === type);
			if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0]);
			return new Promise((resolve, reject) => {
				const timer = setTimeout(() => reject(new Error(`${script}: no "${type}" within ${timeoutMs} ms`)), timeoutMs);
				const onExit = () => reject(new Error(`${script} exited before "${type}"`));
				child.once('exit', onExit);
				waiters.push({
					type,
					resolve: (m) => {
						clearTimeout(timer);
						child.off('exit', onExit);
						resolve(m);
					},
				});
			});
		},
		async stop() {
			if (child.exitCode !== null || child.signalCode !== null) return;
			const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
			try {
				child.send({ cmd: 'stop' });
			} catch {
				// IPC already closed
			}
			const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
			await exited;
			clearTimeout(timer);
		},
	};
}

export interface Sender extends Child {
	url: string;
}

export async function startSender(): Promise<Sender> {
	const child = forkChild('sender.ts');
	const { port } = await child.next<{ port: number }>('listening');
	return { ...child, url: `ws://127.0.0.1:${port}/v1/sessions/sess_bench/connect` };
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
	if (sorted.length === 0) return NaN;
	const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
	return sorted[i];
}

export function median(values: number[]): number {
	return percentile([...values].sort((a, b) => a - b), 50);
}

/** Latencies (ms) of every delivered sequence: received − sent. */
export function latenciesMs(sentAtUs: number[], recvAtUs: Float64Array): Float64Array {
	const out: number[] = [];
	for (let seq = 1; seq < sentAtUs.length; seq++) {
		if (recvAtUs[seq] > 0 && sentAtUs[seq] > 0) out.push((recvAtUs[seq] - sentAtUs[seq]) / 1000);
	}
	return Float64Array.from(out).sort();
}

export const round = (value: number, digits = 2) => (Number.isFinite(value) ? Number(value.toFixed(digits)) : null);
