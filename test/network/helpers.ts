/** A real forward proxy in a child process (fixtures/forward-proxy.mjs) and what it proxied. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface ForwardProxy {
	url: string;
	/** Each proxied request: "CONNECT host:port" or "GET http://…". */
	seen: string[];
	stop(): Promise<void>;
}

/**
 * Starts the proxy; `onlyProxyResolves` maps names only the proxy can resolve to addresses;
 * `credentials` ("user:password"): the proxy answers 407 to requests without them.
 */
export async function startForwardProxy(onlyProxyResolves: Record<string, string> = {}, credentials?: string): Promise<ForwardProxy> {
	const child: ChildProcess = spawn(process.execPath, [join(__dirname, 'fixtures/forward-proxy.mjs')], {
		env: {
			PATH: process.env.PATH, DEBUG: process.env.PROXY_DEBUG,
			PROXY_HOSTS: Object.entries(onlyProxyResolves)
				.map(([name, address]) => `${name}=${address}`)
				.join(','),
			...(credentials ? { PROXY_CREDENTIALS: credentials } : {}),
		},
		stdio: ['ignore', 'pipe', 'inherit'],
	});
	const seen: string[] = [];
	const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
	const port = await new Promise<number>((resolve, reject) => {
		child.once('exit', (code) => reject(new Error(`forward proxy exited (${code}) before listening`)));
		createInterface({ input: child.stdout! }).on('line', (line) => {
			const entry = JSON.parse(line) as { listening?: number; method?: string; target?: string };
			if (entry.listening !== undefined) resolve(entry.listening);
			else seen.push(`${entry.method} ${entry.target}`);
		});
	});
	return {
		url: `http://127.0.0.1:${port}`,
		seen,
		stop: async () => {
			child.kill('SIGTERM');
			await exited;
		},
	};
}

const PROXY_VARIABLES = ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'all_proxy', 'no_proxy'];

/** Sets exactly these proxy variables for this test process (proxy-from-env reads them per request). */
export function setProxyEnv(variables: Record<string, string>): void {
	for (const name of PROXY_VARIABLES) delete process.env[name];
	for (const name of Object.keys(process.env)) if (/^npm_config_.*proxy$/i.test(name)) delete process.env[name];
	Object.assign(process.env, variables);
}
