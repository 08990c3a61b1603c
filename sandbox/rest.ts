/**
 * REST API under /v1: the request pipeline (auth → rate limit → routing →
 * idempotency → faults → handler) and the endpoint handlers.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError, defaultCodeForStatus } from './errors';
import { keyRefusal } from './keys';
import type { RestFaultQueue } from './faults';
import { flattenHeaders, parseJsonBody, queryObject, readBody, sendBytes, sendJson } from './http-util';
import { newCallId, newRequestId } from './ids';
import type { IdempotencyOutcome, IdempotencyStore } from './idempotency';
import { analysisResource, recordingFileName, recordingResource, type PostCallStore } from './post-call';
import type { RateLimiter, RateLimitVerdict } from './rate-limit';
import {
	createSessionRecord,
	endSummary,
	sessionResource,
	transcriptResource,
	type StreamTicket,
} from './sessions';
import type { Agent, ApiKeyProfile, JsonObject, RecordedRequest, RestFault, SandboxRecording, SandboxSession } from './types';
import {
	validateAnalysisRequest,
	validateCreateSession,
	validateDial,
	validateListLimit,
	type ValidationResult,
} from './validation';

/** Sandbox state the endpoint handlers read and change. */
export interface RestBackend {
	readonly sessions: Map<string, SandboxSession>;
	readonly agents: Agent[];
	readonly postCall: PostCallStore;
	credits: number;
	creditsUsed: number;
	/** `requestHost`: the request's Host header, which the stream URL names. */
	issueStreamTicket(session: SandboxSession, requestHost?: string): StreamTicket;
	/** The `stream` of GET /v1/sessions/{id}: a fresh ticket, or null when none is shown. */
	retrievedStream(session: SandboxSession, requestHost?: string): StreamTicket | null;
	endSession(sessionId: string, reason?: string): void;
	/** A session was created (the `session.created` webhook). */
	sessionCreated(session: SandboxSession): void;
}

/** Cross-cutting machinery of the pipeline. */
export interface RestGates {
	apiKeys: readonly string[];
	keyProfiles?: Readonly<Record<string, ApiKeyProfile>>;
	limiter: RateLimiter;
	idempotency: IdempotencyStore;
	faults: RestFaultQueue;
	requests: RecordedRequest[];
	/** Aborted when the sandbox closes: pending fault delays give up. */
	shutdown: AbortSignal;
	log(line: string): void;
}

interface RestResult {
	status: number;
	body: unknown;
	headers?: Record<string, string>;
	/** A binary response (the recording audio): sent as-is instead of `body` as JSON. */
	bytes?: Buffer;
}

interface HandlerContext {
	apiKey: string;
	/** The Host header: the stream URLs in the answer name it. */
	host?: string;
	params: string[];
	query: URLSearchParams;
	body: unknown;
}

interface Route {
	method: 'GET' | 'POST';
	pattern: RegExp;
	/** Accepts Idempotency-Key. */
	idempotent: boolean;
	handle(ctx: HandlerContext): RestResult;
}

/** X-API-Credits-Remaining when credits are unlimited (a header must stay numeric). */
const UNLIMITED_CREDITS_HEADER = '999999';

/** The validated body, or Kallglot's error: 400 when the body itself is wrong, else 422 naming the field. */
function validBody<T>(validation: ValidationResult<T>): T {
	if (validation.ok) return validation.value;
	const { param, message } = validation.issue;
	if (param === 'body') throw new ApiError(400, 'invalid_request', message);
	throw new ApiError(422, 'validation_error', message, param);
}

/** `Authorization: Bearer <key>` or `X-API-Key: <key>`. */
function presentedApiKey(headers: IncomingHttpHeaders): string | null {
	const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
	if (bearer !== null) return bearer[1];
	const apiKey = headers['x-api-key'];
	return typeof apiKey === 'string' && apiKey !== '' ? apiKey : null;
}

export class RestApi {
	private readonly routes: Route[];

	constructor(
		private readonly backend: RestBackend,
		private readonly gates: RestGates,
	) {
		this.routes = [
			{ method: 'POST', pattern: /^\/v1\/sessions$/, idempotent: true, handle: (c) => this.createSession(c) },
			{ method: 'GET', pattern: /^\/v1\/sessions\/([^/]+)$/, idempotent: false, handle: (c) => this.getSession(c) },
			{ method: 'POST', pattern: /^\/v1\/sessions\/([^/]+)\/end$/, idempotent: true, handle: (c) => this.endSession(c) },
			{ method: 'POST', pattern: /^\/v1\/sessions\/([^/]+)\/dial$/, idempotent: true, handle: (c) => this.dial(c) },
			{
				method: 'GET',
				pattern: /^\/v1\/sessions\/([^/]+)\/transcript$/,
				idempotent: false,
				handle: (c) => this.transcript(c),
			},
			...this.postCallRoutes(),
			{ method: 'GET', pattern: /^\/v1\/agents$/, idempotent: false, handle: (c) => this.listAgents(c) },
			{ method: 'GET', pattern: /^\/v1\/agents\/([^/]+)$/, idempotent: false, handle: (c) => this.getAgent(c) },
		];
	}

	async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
		const method = (req.method ?? 'GET').toUpperCase();
		const path = url.pathname;
		const requestId = newRequestId();
		const body = parseJsonBody(await readBody(req));
		const record: RecordedRequest = {
			method,
			path,
			query: queryObject(url),
			headers: flattenHeaders(req.headers),
			body: body.value,
			status: 0,
			requestId,
			at: Date.now(),
		};
		this.gates.requests.push(record);

		const apiKey = presentedApiKey(req.headers);
		let verdict: RateLimitVerdict = this.gates.limiter.peek(apiKey ?? 'anonymous');
		const reply = (result: RestResult): void => {
			record.status = result.status;
			const headers = { ...this.standardHeaders(requestId, verdict), ...result.headers };
			if (result.bytes !== undefined) sendBytes(res, result.status, result.bytes, headers);
			else sendJson(res, result.status, result.body, headers);
			this.gates.log(`${method} ${path}${url.search} → ${result.status}`);
		};
		const replyError = (error: ApiError): void => reply(this.errorResult(error, requestId));

		// 1. Authentication.
		const profile = apiKey === null ? undefined : this.gates.keyProfiles?.[apiKey];
		if (apiKey === null || (!this.gates.apiKeys.includes(apiKey) && profile === undefined)) {
			replyError(
				new ApiError(401, 'invalid_api_key', apiKey === null ? 'No API key provided.' : 'The API key is not valid.'),
			);
			return;
		}
		const refusal = keyRefusal(profile, method, path);
		if (refusal !== null) {
			replyError(refusal);
			return;
		}
		// 2. Rate limit (fixed window per key).
		verdict = this.gates.limiter.consume(apiKey);
		if (!verdict.allowed) {
			const wait = verdict.retryAfterSeconds;
			if (this.gates.limiter.retryAfterFormat === 'http-date') {
				const error = new ApiError(429, 'rate_limit_exceeded', `Too many requests; retry after ${wait} s.`);
				const result = this.errorResult(error, requestId);
				reply({ ...result, headers: { ...result.headers, 'Retry-After': new Date(this.gates.limiter.now() + wait * 1000).toUTCString() } });
				return;
			}
			replyError(new ApiError(429, 'rate_limit_exceeded', `Too many requests; retry after ${wait} s.`, undefined, wait));
			return;
		}
		// 3. Routing.
		const matched = this.match(method, path);
		if (!('route' in matched)) {
			replyError(matched.error);
			return;
		}
		const { route, params } = matched;
		if (body.invalidJson) {
			replyError(new ApiError(400, 'invalid_request', 'The request body is not valid JSON.'));
			return;
		}
		// 4. Idempotency: replay, mismatch or conflict are decided before anything runs.
		const idempotencyKey = req.headers['idempotency-key'];
		let idempotency: IdempotencyOutcome | null = null;
		if (route.idempotent && typeof idempotencyKey === 'string' && idempotencyKey !== '') {
			idempotency = this.gates.idempotency.begin({ apiKey, method, path, key: idempotencyKey }, body.value);
			if (idempotency.kind === 'mismatch') {
				replyError(
					new ApiError(400, 'idempotency_mismatch', 'This Idempotency-Key was used with a different request body.'),
				);
				return;
			}
			if (idempotency.kind === 'in_progress') {
				replyError(
					new ApiError(409, 'idempotency_conflict', 'A request with this Idempotency-Key is still in progress.', undefined, 1),
				);
				return;
			}
		}
		const abandonIdempotency = (): void => {
			if (idempotency?.kind === 'fresh') idempotency.abandon();
		};

		// 5. Injected fault, 'before' phase: the request is not processed.
		const fault = this.gates.faults.take(method, path);
		const faultPhase = fault?.when ?? 'before';
		if (fault !== undefined && faultPhase === 'before') {
			if (!(await this.applyFault(fault, req, record, replyError, reply))) {
				abandonIdempotency();
				return;
			}
		}

		// 6. The handler (or the stored first success).
		let result: RestResult;
		if (idempotency?.kind === 'replay') {
			result = { ...idempotency.response, headers: { 'Idempotent-Replayed': 'true' } };
		} else {
			result = this.run(route, { apiKey, host: req.headers.host, params, query: url.searchParams, body: body.value }, requestId);
			if (idempotency?.kind === 'fresh') idempotency.finish({ status: result.status, body: result.body });
		}

		// 7. Injected fault, 'after' phase: the work is done, only the response is lost or replaced.
		if (fault !== undefined && faultPhase === 'after') {
			if (!(await this.applyFault(fault, req, record, replyError, reply))) return;
		}
		reply(result);
	}

	/** Applies a fault; true when the request should continue normally (a pure delay). */
	private async applyFault(
		fault: RestFault,
		req: IncomingMessage,
		record: RecordedRequest,
		replyError: (error: ApiError) => void,
		reply: (result: RestResult) => void,
	): Promise<boolean> {
		record.fault = 'delay';
		if (fault.delayMs !== undefined && fault.delayMs > 0) {
			try {
				await sleep(fault.delayMs, undefined, { signal: this.gates.shutdown });
			} catch {
				req.socket.destroy(); // the sandbox is closing
				return false;
			}
		}
		if (fault.drop === true) {
			record.fault = 'drop';
			record.status = 0;
			req.socket.destroy();
			this.gates.log(`${record.method} ${record.path} → dropped (fault)`);
			return false;
		}
		if (fault.status !== undefined) {
			record.fault = 'status';
			const error = new ApiError(
				fault.status,
				fault.code ?? defaultCodeForStatus(fault.status),
				'Injected sandbox fault.',
				undefined,
				fault.retryAfter ?? (fault.status === 429 && fault.retryAfterHeader === undefined ? 1 : undefined),
			);
			if (fault.retryAfterHeader === undefined) replyError(error);
			else reply(this.errorResult(error, record.requestId, { 'Retry-After': fault.retryAfterHeader }));
			return false;
		}
		return true;
	}

	private match(method: string, path: string): { route: Route; params: string[] } | { error: ApiError } {
		let pathKnown = false;
		for (const route of this.routes) {
			const m = route.pattern.exec(path);
			if (m === null) continue;
			pathKnown = true;
			if (route.method === method) return { route, params: m.slice(1).map((p) => decodeURIComponent(p)) };
		}
		if (pathKnown) return { error: new ApiError(405, 'method_not_allowed', `${method} is not allowed on ${path}.`) };
		return { error: new ApiError(404, 'not_found', `No route ${method} ${path}.`) };
	}

	private run(route: Route, ctx: HandlerContext, requestId: string): RestResult {
		try {
			return route.handle(ctx);
		} catch (error) {
			if (error instanceof ApiError) return this.errorResult(error, requestId);
			this.gates.log(`internal error: ${error instanceof Error ? error.stack : String(error)}`);
			return this.errorResult(new ApiError(500, 'internal_error', 'Sandbox internal error.'), requestId);
		}
	}

	private errorResult(error: ApiError, requestId: string, extraHeaders?: Record<string, string>): RestResult {
		const headers: Record<string, string> = {};
		if (error.retryAfter !== undefined) headers['Retry-After'] = String(error.retryAfter);
		return { status: error.status, body: error.toEnvelope(requestId), headers: { ...headers, ...extraHeaders } };
	}

	private standardHeaders(requestId: string, verdict: RateLimitVerdict): Record<string, string> {
		const credits = this.backend.credits;
		return {
			'X-Request-ID': requestId,
			'X-RateLimit-Limit': String(verdict.limit),
			'X-RateLimit-Remaining': String(verdict.remaining),
			'X-RateLimit-Reset': String(verdict.resetAt),
			'X-API-Credits-Remaining': Number.isFinite(credits) ? String(Math.max(0, credits)) : UNLIMITED_CREDITS_HEADER,
			'X-API-Credits-Used': String(this.backend.creditsUsed),
		};
	}

	// ---- handlers ---------------------------------------------------------------------------

	/** Billable POSTs (create, analysis) check credits before the body, as the real API does (402 = never retry). */
	private requireCredit(): void {
		if (!(this.backend.credits >= 1)) {
			throw new ApiError(402, 'insufficient_api_credits', 'No API credits left; top up in the Kallglot portal.');
		}
	}

	private spendCredit(): void {
		this.backend.credits -= 1;
		this.backend.creditsUsed += 1;
	}

	/** Sessions belong to the key that created them; other keys see 404. */
	private ownedSession(ctx: HandlerContext): SandboxSession {
		const session = this.backend.sessions.get(ctx.params[0]);
		if (session === undefined || session.ownerApiKey !== ctx.apiKey) {
			throw new ApiError(404, 'session_not_found', `No session ${ctx.params[0]}.`);
		}
		return session;
	}

	private retrieved(session: SandboxSession, ctx: HandlerContext): JsonObject {
		const resource = sessionResource(session, this.backend.retrievedStream(session, ctx.host), 'retrieved');
		// As in the session.ended webhook's data: why it ended.
		if (session.status === 'ended') resource.end_reason = session.endReason;
		return resource;
	}

	private createSession(ctx: HandlerContext): RestResult {
		// Gate errors come before body validation, as on the real API (402 means "never retry").
		this.requireCredit();
		const input = validBody(validateCreateSession(ctx.body));
		if (input.aiAgent !== null && !this.backend.agents.some((a) => a.id === input.aiAgent?.agent_id)) {
			throw new ApiError(404, 'ai_agent_not_found', `No agent ${input.aiAgent.agent_id}.`, 'ai_agent.agent_id');
		}
		const session = createSessionRecord(input, ctx.body as JsonObject, ctx.apiKey);
		this.backend.sessions.set(session.id, session);
		this.spendCredit();
		this.backend.sessionCreated(session);
		return { status: 201, body: sessionResource(session, this.backend.issueStreamTicket(session, ctx.host), 'created') };
	}

	private getSession(ctx: HandlerContext): RestResult {
		return { status: 200, body: this.retrieved(this.ownedSession(ctx), ctx) };
	}

	private endSession(ctx: HandlerContext): RestResult {
		const session = this.ownedSession(ctx);
		if (session.status !== 'ended') this.backend.endSession(session.id, 'ended_by_api');
		return { status: 200, body: endSummary(session) };
	}

	private dial(ctx: HandlerContext): RestResult {
		const session = this.ownedSession(ctx);
		const validation = validateDial(ctx.body);
		if (!validation.ok) throw new ApiError(422, 'validation_error', validation.issue.message, validation.issue.param);
		if (session.status === 'ended') throw new ApiError(409, 'session_ended', `Session ${session.id} has ended.`);
		session.call = {
			id: newCallId(),
			object: 'call',
			// A session on the organization's default route dials through the sandbox's default carrier.
			provider: session.provider ?? 'twilio',
			to: validation.value.to,
			status: 'dialing',
		};
		return { status: 200, body: this.retrieved(session, ctx) };
	}

	private transcript(ctx: HandlerContext): RestResult {
		return { status: 200, body: transcriptResource(this.ownedSession(ctx)) };
	}

	private listAgents(ctx: HandlerContext): RestResult {
		const limit = validateListLimit(ctx.query.get('limit') ?? undefined);
		if (!limit.ok) throw new ApiError(422, 'validation_error', limit.issue.message, limit.issue.param);
		const agents = this.backend.agents;
		const startingAfter = ctx.query.get('starting_after');
		let start = 0;
		if (startingAfter !== null && startingAfter !== '') {
			const index = agents.findIndex((a) => a.id === startingAfter);
			if (index === -1) throw new ApiError(422, 'validation_error', `starting_after: no agent ${startingAfter}.`, 'starting_after');
			start = index + 1;
		}
		const data = agents.slice(start, start + limit.value);
		return { status: 200, body: { object: 'list', data, has_more: start + limit.value < agents.length } };
	}

	private getAgent(ctx: HandlerContext): RestResult {
		const agent = this.backend.agents.find((a) => a.id === ctx.params[0]);
		if (agent === undefined) throw new ApiError(404, 'agent_not_found', `No agent ${ctx.params[0]}.`);
		return { status: 200, body: agent };
	}

	// ---- post-call: recordings and analyses -----------------------------------------------

	private postCallRoutes(): Route[] {
		return [
			{
				method: 'GET',
				pattern: /^\/v1\/sessions\/([^/]+)\/recordings$/,
				idempotent: false,
				handle: (c) => this.listRecordings(c),
			},
			{ method: 'GET', pattern: /^\/v1\/recordings\/([^/]+)$/, idempotent: false, handle: (c) => this.getRecording(c) },
			{
				method: 'GET',
				pattern: /^\/v1\/recordings\/([^/]+)\/audio$/,
				idempotent: false,
				handle: (c) => this.recordingAudio(c),
			},
			{
				method: 'POST',
				pattern: /^\/v1\/sessions\/([^/]+)\/analysis$/,
				idempotent: true,
				handle: (c) => this.requestAnalysis(c),
			},
			{ method: 'GET', pattern: /^\/v1\/analyses\/([^/]+)$/, idempotent: false, handle: (c) => this.getAnalysis(c) },
		];
	}

	/** Recordings belong to their session's owner; other keys see 404. */
	private ownedRecording(ctx: HandlerContext): { recording: SandboxRecording; session: SandboxSession } {
		const recording = this.backend.postCall.recordings.get(ctx.params[0]);
		const session = recording === undefined ? undefined : this.backend.sessions.get(recording.sessionId);
		if (recording === undefined || session === undefined || session.ownerApiKey !== ctx.apiKey) {
			throw new ApiError(404, 'recording_not_found', `No recording ${ctx.params[0]}.`);
		}
		return { recording, session };
	}

	private listRecordings(ctx: HandlerContext): RestResult {
		const session = this.ownedSession(ctx);
		const data = this.backend.postCall.recordingsOf(session.id).map(recordingResource);
		return { status: 200, body: { object: 'list', data, has_more: false } };
	}

	private getRecording(ctx: HandlerContext): RestResult {
		return { status: 200, body: recordingResource(this.ownedRecording(ctx).recording) };
	}

	/** Consent first (waiting will not fix it), then readiness. */
	private recordingAudio(ctx: HandlerContext): RestResult {
		const { recording, session } = this.ownedRecording(ctx);
		const { consent_required: consentRequired, consent_state: consentState } = session.recording;
		if (consentRequired && consentState !== 'granted') {
			throw new ApiError(
				403,
				'recording_consent_required',
				`Recording ${recording.id} needs a granted consent state to be downloaded (consent_state is ${consentState ?? 'not set'}).`,
			);
		}
		if (recording.status === 'processing') {
			const wait = Math.max(1, Math.ceil((recording.processedAt.getTime() - Date.now()) / 1000));
			throw new ApiError(409, 'recording_not_ready', `Recording ${recording.id} is still processing; retry shortly.`, undefined, wait);
		}
		if (recording.status === 'failed') {
			throw new ApiError(409, 'recording_failed', `Recording ${recording.id} failed to process; it has no audio.`);
		}
		return {
			status: 200,
			body: null,
			bytes: this.backend.postCall.audio(recording),
			headers: {
				'Content-Type': 'audio/wav',
				'Content-Disposition': `attachment; filename="${recordingFileName(recording)}"`,
			},
		};
	}

	private requestAnalysis(ctx: HandlerContext): RestResult {
		const session = this.ownedSession(ctx);
		this.requireCredit();
		const { profile, include } = validBody(validateAnalysisRequest(ctx.body));
		if (session.status !== 'ended') {
			throw new ApiError(409, 'session_not_ended', `Session ${session.id} is still ${session.status}; analyse it after it ends.`);
		}
		const analysis = this.backend.postCall.requestAnalysis(session, profile, include);
		this.spendCredit();
		return { status: 202, body: analysisResource(analysis) };
	}

	private getAnalysis(ctx: HandlerContext): RestResult {
		const analysis = this.backend.postCall.analyses.get(ctx.params[0]);
		if (analysis === undefined || analysis.ownerApiKey !== ctx.apiKey) {
			throw new ApiError(404, 'analysis_not_found', `No analysis ${ctx.params[0]}.`);
		}
		return { status: 200, body: analysisResource(analysis) };
	}
}
