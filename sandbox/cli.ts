#!/usr/bin/env node
/**
 * `kallglot-sandbox [--port 4010 --credits 100 --webhook-url URL --webhook-secret S …]`, the bin of
 * the kallglot-sandbox package (`npx kallglot-sandbox` where it is installed); in this repository
 * `npm run sandbox -- …`. Starts the Kallglot sandbox and prints how to use it. Ctrl-C stops it cleanly.
 */
import { KallglotSandbox, SANDBOX_AGENT_ID } from './index';
import type { RateLimitModel, SandboxOptions } from './types';

const USAGE = `Usage: kallglot-sandbox [options]   (in the repository: npm run sandbox -- [options])
  --port N               TCP port (default 4010, or KALLGLOT_SANDBOX_PORT; 0 = any free port)
  --host ADDR            address to listen on (default 127.0.0.1, or KALLGLOT_SANDBOX_HOST); 0.0.0.0 lets
                         n8n in a Docker container reach it (as http://host.docker.internal:4010/v1)
  --public-url URL       the URL clients use (e.g. behind a TLS proxy); default: stream URLs name the
                         host each request came to
  --credits N            API credits (default unlimited; each session create costs 1)
  --token-ttl-ms N       stream token lifetime (default 300000 = 5 min)
  --rate-limit N/MS      rate limit per API key: N requests per MS ms, e.g. 60/60000
  --rate-limit-model M   fixed-window (default: N per window, starting with its first request)
                         or token-bucket (N tokens, refilled continuously at N per MS)
  --webhook-url URL      deliver signed webhooks (session, transcript, recording, analysis events) to URL
  --webhook-secret S     signing secret for --webhook-url (or KALLGLOT_WEBHOOK_SECRET)
  --webhook-events A,B   only these event types (default all)
  --recording-ms N       how long recordings stay "processing" (default 1500)
  --analysis-ms N        how long analyses stay "processing" (default 1500)
  --quiet                do not log requests
  --help`;

function fail(message: string): never {
	console.error(`${message}\n\n${USAGE}`);
	process.exit(2);
}

function nonNegativeInt(flag: string, raw: string | undefined): number {
	if (raw === undefined || !/^\d+$/.test(raw)) fail(`${flag} needs a non-negative integer`);
	return Number(raw);
}

function parseArgs(argv: string[]): { options: SandboxOptions; quiet: boolean } {
	const options: SandboxOptions = { port: nonNegativeInt('KALLGLOT_SANDBOX_PORT', process.env.KALLGLOT_SANDBOX_PORT ?? '4010') };
	if (process.env.KALLGLOT_SANDBOX_HOST) options.host = process.env.KALLGLOT_SANDBOX_HOST;
	let quiet = false;
	let webhookUrl: string | undefined;
	let webhookSecret = process.env.KALLGLOT_WEBHOOK_SECRET;
	let webhookEvents: string[] | undefined;
	let rateLimitModel: RateLimitModel | undefined;
	for (let i = 0; i < argv.length; i++) {
		const [flag, inline] = argv[i].split('=', 2);
		const value = (): string | undefined => inline ?? argv[++i];
		switch (flag) {
			case '--port':
				options.port = nonNegativeInt(flag, value());
				if (options.port > 65535) fail('--port must be at most 65535');
				break;
			case '--host':
				options.host = value();
				if (options.host === undefined || options.host === '') fail('--host needs an address, e.g. 0.0.0.0');
				break;
			case '--public-url':
				options.publicUrl = value();
				if (options.publicUrl === undefined || !/^https?:\/\/[^/]/.test(options.publicUrl)) fail('--public-url needs an http(s) URL');
				break;
			case '--credits':
				options.credits = nonNegativeInt(flag, value());
				break;
			case '--token-ttl-ms':
				options.tokenTtlMs = nonNegativeInt(flag, value());
				break;
			case '--rate-limit': {
				const m = /^(\d+)\/(\d+)$/.exec(value() ?? '');
				if (m === null) fail('--rate-limit needs N/windowMs, e.g. 60/60000');
				options.rateLimit = { limit: Number(m[1]), windowMs: Number(m[2]) };
				break;
			}
			case '--rate-limit-model': {
				const model = value();
				if (model !== 'fixed-window' && model !== 'token-bucket') fail('--rate-limit-model is fixed-window or token-bucket');
				rateLimitModel = model;
				break;
			}
			case '--webhook-url':
				webhookUrl = value();
				if (webhookUrl === undefined || !/^https?:\/\/./.test(webhookUrl)) fail('--webhook-url needs an http(s) URL');
				break;
			case '--webhook-secret':
				webhookSecret = value();
				if (webhookSecret === undefined || webhookSecret === '') fail('--webhook-secret needs a value');
				break;
			case '--webhook-events':
				webhookEvents = (value() ?? '').split(',').filter((e) => e !== '');
				if (webhookEvents.length === 0) fail('--webhook-events needs a comma-separated list of event types');
				break;
			case '--recording-ms':
				options.recordingProcessingMs = nonNegativeInt(flag, value());
				break;
			case '--analysis-ms':
				options.analysisProcessingMs = nonNegativeInt(flag, value());
				break;
			case '--quiet':
				quiet = true;
				break;
			case '--help':
			case '-h':
				console.log(USAGE);
				process.exit(0);
				break;
			default:
				fail(`Unknown option ${argv[i]}`);
		}
	}
	if (rateLimitModel !== undefined) {
		if (options.rateLimit === undefined || options.rateLimit === null) fail('--rate-limit-model needs --rate-limit');
		options.rateLimit.model = rateLimitModel;
	}
	if (webhookUrl !== undefined) {
		if (webhookSecret === undefined || webhookSecret === '') fail('--webhook-url needs --webhook-secret (or KALLGLOT_WEBHOOK_SECRET)');
		options.webhooks = { url: webhookUrl, secret: webhookSecret, ...(webhookEvents !== undefined ? { events: webhookEvents } : {}) };
	} else if (webhookEvents !== undefined) {
		fail('--webhook-events needs --webhook-url');
	}
	return { options, quiet };
}

/** For a sandbox other machines or containers can reach: how they name it, and the key rule. */
function remoteLines(sandbox: KallglotSandbox, host: string | undefined): string {
	if (sandbox.publicOrigin === null && (host === undefined || /^(127\.|localhost$|::1$|\[::1\]$)/.test(host))) return '';
	return `
  listening  ${host ?? '127.0.0.1'}:${sandbox.port}; from a Docker container use e.g. http://host.docker.internal:${sandbox.port}/v1
             (n8n and the sandbox both in containers: http://<sandbox service name>:${sandbox.port}/v1)
             Plain http:// to a host other than localhost works with this sandbox key (sk_sandbox_…) only:
             the nodes never send a Kallglot key (sk_live_…, sk_test_…) unencrypted.`;
}

function webhookLine(sandbox: KallglotSandbox): string {
	const endpoint = sandbox.webhooks.describe();
	if (endpoint === null) return 'off (--webhook-url URL --webhook-secret S, or POST /_sandbox/webhooks)';
	return `${endpoint.url} (${endpoint.events?.join(', ') ?? 'all events'}; signed, retried on non-2xx)`;
}

async function main(): Promise<void> {
	const { options, quiet } = parseArgs(process.argv.slice(2));
	const sandbox = await KallglotSandbox.start({
		...options,
		logger: quiet ? undefined : (line) => console.log(`${new Date().toISOString()}  ${line}`),
	});
	const key = sandbox.apiKey;
	console.log(`Kallglot sandbox running
  base URL   ${sandbox.baseUrl}
  API key    ${key}
  agent id   ${SANDBOX_AGENT_ID} (Appointment Setter; ${sandbox.agents.length} agents seeded)
  control    ${sandbox.controlUrl}/stats | /requests | /sessions
  credits    ${Number.isFinite(sandbox.credits) ? sandbox.credits : 'unlimited'}
  webhooks   ${webhookLine(sandbox)}${remoteLines(sandbox, options.host)}

In n8n, create a "Kallglot API" credential with this API key and base URL ${sandbox.baseUrl}.

Create a session:
  curl -s -X POST ${sandbox.baseUrl}/sessions \\
    -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" \\
    -d '{"mode":"bidirectional_translation","source_language":"es","target_language":"en"}'

Play the scripted bilingual call on it (frames go to its stream; playback waits for a listener):
  curl -s -X POST ${sandbox.controlUrl}/sessions/<session id>/play \\
    -H "Content-Type: application/json" -d '{"intervalMs":400,"endWhenDone":true}'

Listen to the stream (stream.url + token from the create response), e.g.:
  npx wscat -c "<stream.url>?token=<stream.token>"

Ctrl-C to stop.
`);

	let stopping = false;
	const stop = (): void => {
		if (stopping) return;
		stopping = true;
		console.log('\nStopping the Kallglot sandbox…');
		void sandbox.close().then(() => process.exit(0));
	};
	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
	const code = (error as NodeJS.ErrnoException | null)?.code;
	if (code === 'EADDRINUSE') console.error('That port is already in use: pass --port 0 for any free port.');
	else console.error(error instanceof Error ? error.message : error);
	process.exit(1);
});
