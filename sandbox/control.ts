/**
 * Control endpoints under /_sandbox/ (no auth): drive the sandbox from another process — an n8n
 * instance under test, the demo script, or a user with curl. A thin layer over the class API.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultSpecError, parseRestFault, parseStreamFaults, parseWebhookEndpoint, parseWebhookFaults } from './faults';
import { parseJsonBody, readBody, sendJson } from './http-util';
import { sessionResource } from './sessions';
import type { KallglotSandbox } from './server';
import type { PlayOptions, TranslationShape } from './types';
import { isPlainObject } from './validation';

interface ControlResult {
	status: number;
	body: unknown;
}

const ok = (body: unknown, status = 200): ControlResult => ({ status, body });
const problem = (status: number, message: string): ControlResult => ({ status, body: { error: message } });

function parsePlayOptions(json: unknown): PlayOptions {
	if (json === null) return {};
	if (!isPlainObject(json)) throw new FaultSpecError('play options must be a JSON object');
	const options: PlayOptions = {};
	const { intervalMs, translationShape, endWhenDone, waitForListener } = json;
	if (intervalMs !== undefined) {
		if (typeof intervalMs !== 'number' || intervalMs < 0) throw new FaultSpecError('intervalMs must be a non-negative number');
		options.intervalMs = intervalMs;
	}
	if (translationShape !== undefined) {
		if (translationShape !== 'object' && translationShape !== 'string' && translationShape !== 'mixed') {
			throw new FaultSpecError('translationShape must be "object", "string" or "mixed"');
		}
		options.translationShape = translationShape as TranslationShape;
	}
	if (endWhenDone !== undefined) {
		if (typeof endWhenDone !== 'boolean') throw new FaultSpecError('endWhenDone must be a boolean');
		options.endWhenDone = endWhenDone;
	}
	if (waitForListener !== undefined) {
		if (typeof waitForListener !== 'boolean') throw new FaultSpecError('waitForListener must be a boolean');
		options.waitForListener = waitForListener;
	}
	return options;
}

export class ControlApi {
	constructor(private readonly sandbox: KallglotSandbox) {}

	async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
		const body = parseJsonBody(await readBody(req));
		let result: ControlResult;
		if (body.invalidJson) {
			result = problem(400, 'body is not valid JSON');
		} else {
			try {
				result = this.route((req.method ?? 'GET').toUpperCase(), url.pathname, body.value);
			} catch (error) {
				if (!(error instanceof FaultSpecError)) throw error;
				result = problem(400, error.message);
			}
		}
		sendJson(res, result.status, result.body);
	}

	private route(method: string, path: string, body: unknown): ControlResult {
		const sb = this.sandbox;
		const sessionRoute = /^\/_sandbox\/sessions\/([^/]+)\/(play|end|frames|start|finals)$/.exec(path);
		if (sessionRoute !== null && method === 'POST') {
			return this.sessionAction(decodeURIComponent(sessionRoute[1]), sessionRoute[2], body);
		}
		switch (`${method} ${path}`) {
			case 'GET /_sandbox/requests':
				return ok(sb.requests);
			case 'DELETE /_sandbox/requests': {
				const cleared = sb.requests.length;
				sb.clearRequests();
				return ok({ cleared });
			}
			case 'GET /_sandbox/handshakes':
				return ok(sb.handshakes);
			case 'POST /_sandbox/faults':
				sb.injectFault(parseRestFault(body));
				return ok({ ok: true }, 201);
			case 'DELETE /_sandbox/faults':
				sb.clearFaults();
				return ok({ ok: true });
			case 'POST /_sandbox/stream-faults': {
				if (!isPlainObject(body) || typeof body.sessionId !== 'string') {
					return problem(400, 'body must be {sessionId: "sess_…" | "*", ...StreamFaults}');
				}
				const { sessionId, ...faults } = body;
				sb.setStreamFaults(sessionId, parseStreamFaults(faults));
				return ok({ ok: true }, 201);
			}
			case 'GET /_sandbox/webhooks':
				return ok({ endpoint: sb.webhooks.describe(), pending: sb.webhooks.pending, events: sb.webhooks.events.length });
			case 'POST /_sandbox/webhooks':
				sb.configureWebhooks(parseWebhookEndpoint(body));
				return ok({ endpoint: sb.webhooks.describe() });
			case 'DELETE /_sandbox/webhooks':
				sb.configureWebhooks(null);
				return ok({ endpoint: null });
			case 'GET /_sandbox/webhook-deliveries':
				return ok(sb.webhookDeliveries);
			case 'DELETE /_sandbox/webhook-deliveries': {
				const cleared = sb.webhooks.attempts.length;
				sb.webhooks.attempts.length = 0;
				return ok({ cleared });
			}
			case 'POST /_sandbox/webhook-faults':
				sb.setWebhookFaults(parseWebhookFaults(body));
				return ok({ ok: true }, 201);
			case 'POST /_sandbox/webhook-events': {
				// {"type": "...", "data": {...}}: any event, also ones the sandbox never emits itself.
				if (!isPlainObject(body) || typeof body.type !== 'string' || body.type === '' || !isPlainObject(body.data)) {
					return problem(400, 'body must be {type: string, data: object}');
				}
				const envelope = sb.emitWebhook(body.type, body.data);
				if (envelope === null) return problem(409, 'no webhook endpoint configured for this event type');
				return ok(envelope, 202);
			}
			case 'POST /_sandbox/post-call-faults': {
				// {"failRecordings": N, "failAnalyses": N}: the next N to finish end `failed`.
				if (!isPlainObject(body)) return problem(400, 'body must be {failRecordings?: number, failAnalyses?: number}');
				const { failRecordings, failAnalyses } = body;
				for (const [name, value] of [['failRecordings', failRecordings], ['failAnalyses', failAnalyses]] as const) {
					if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < 0)) {
						return problem(400, `${name} must be a non-negative integer`);
					}
				}
				if (typeof failRecordings === 'number') sb.postCall.failNext('recordings', failRecordings);
				if (typeof failAnalyses === 'number') sb.postCall.failNext('analyses', failAnalyses);
				return ok({ ok: true }, 201);
			}
			case 'GET /_sandbox/stats':
				return ok(sb.stats());
			case 'GET /_sandbox/sessions':
				return ok(
					[...sb.sessions.values()].map((s) => ({
						...sessionResource(s, null, 'retrieved'),
						end_reason: s.endReason,
						transcript_turns: s.transcript.length,
					})),
				);
			case 'PUT /_sandbox/credits': {
				// JSON has no Infinity: null means unlimited.
				const credits = isPlainObject(body) ? body.credits : undefined;
				if (credits !== null && (typeof credits !== 'number' || credits < 0)) {
					return problem(400, 'body must be {credits: number >= 0 | null}');
				}
				sb.credits = credits ?? Infinity;
				return ok({ credits: credits });
			}
			default:
				return problem(404, `no control endpoint ${method} ${path}`);
		}
	}

	private sessionAction(sessionId: string, action: string, body: unknown): ControlResult {
		const sb = this.sandbox;
		const session = sb.sessions.get(sessionId);
		if (session === undefined) return problem(404, `no session ${sessionId}`);
		if (action === 'end') {
			const reason = isPlainObject(body) && typeof body.reason === 'string' ? body.reason : undefined;
			// {"announce": false}: close the stream without a session.ended frame.
			sb.endSession(sessionId, reason, { announce: !(isPlainObject(body) && body.announce === false) });
			return ok({ id: sessionId, status: session.status });
		}
		if (session.status === 'ended') return problem(409, `session ${sessionId} has ended`);
		if (action === 'start') {
			sb.startCall(sessionId);
			return ok({ id: sessionId, status: session.status });
		}
		if (action === 'finals') {
			// {"count": N, "intervalMs"?: 0 = one burst, "waitForListener"?, "endWhenDone"?}; answers at once.
			const count = isPlainObject(body) ? body.count : undefined;
			const intervalMs = isPlainObject(body) ? (body.intervalMs ?? 0) : 0;
			if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || typeof intervalMs !== 'number' || intervalMs < 0) {
				return problem(400, 'body must be {count: integer >= 1, intervalMs?: number >= 0}');
			}
			const options = parsePlayOptions({ ...(body as object), count: undefined, intervalMs: undefined, translationShape: undefined });
			void sb.sendFinals(sessionId, { count, intervalMs, waitForListener: options.waitForListener, endWhenDone: options.endWhenDone }).catch(() => undefined);
			return ok({ ok: true, sessionId, count }, 202);
		}
		if (action === 'frames') {
			// {"raw": "<text sent as-is>"} or {"frame": {...}}: malformed and unknown frames included.
			if (!isPlainObject(body) || (typeof body.raw !== 'string' && body.frame === undefined)) {
				return problem(400, 'body must be {raw: string} or {frame: any}');
			}
			sb.sendFrame(sessionId, typeof body.raw === 'string' ? body.raw : body.frame);
			return ok({ ok: true, openStreams: sb.openStreamCount(sessionId) });
		}
		// play: answer at once, the call runs in the background.
		const options = parsePlayOptions(body);
		void sb.play(sessionId, options).catch(() => undefined);
		return ok({ ok: true, sessionId }, 202);
	}
}
