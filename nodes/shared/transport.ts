/**
 * HTTP to Kallglot for both nodes: authentication through the credential, bounded retries that
 * keep the same Idempotency-Key, and Kallglot's error envelope turned into a NodeApiError.
 */
import type {
	IDataObject,
	IExecuteFunctions,
	IHttpRequestMethods,
	IHttpRequestOptions,
	ILoadOptionsFunctions,
	ITriggerFunctions,
	IWebhookFunctions,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError, NodeOperationError, sleepWithAbort } from 'n8n-workflow';

import { parseBaseUrl } from './baseUrl';
import { explainNetworkFailure, originalMessage } from './networkFailure';
import { kallglotApiError } from './nodeError';
import { describeProxy } from './proxy';
import { headerValue, RateLimitPacer, retryDelayHint, type Sleep } from './rateLimit';
import { errorEnvelope, headers as wireHeaders, type KallglotError, type KallglotScope } from './wire';

export type KallglotContext = IExecuteFunctions | ILoadOptionsFunctions | ITriggerFunctions | IWebhookFunctions;

export const CREDENTIAL_NAME = 'kallglotApi';

export interface KallglotRequest {
	method: IHttpRequestMethods;
	path: string;
	body?: IDataObject;
	qs?: IDataObject;
	/** Sent unchanged on every retry, so a retried create can never bill twice. */
	idempotencyKey?: string;
	itemIndex?: number;
	/**
	 * The API key scope this call needs (e.g. 'sessions:write'), named in the error when Kallglot
	 * answers 403 insufficient_permissions. Every operation sets it; see README "Credential".
	 */
	scope?: KallglotScope;
	/** Statuses worth retrying. A failed SIP dial (502) is not retried by Dial: it would ring again. */
	retryOn?: ReadonlySet<number>;
	/**
	 * Stops the request, its waits and its retries at once (the trigger aborts its calls when it is
	 * closed). Default: the execution's cancel signal (the user stopped it, or it timed out).
	 */
	signal?: AbortSignal;
	/**
	 * Paces this request by what earlier responses said about the rate limit. Default: the pacer
	 * the Kallglot node's execute loop attached to its context (see `attachPacer`), if any.
	 */
	pacer?: RateLimitPacer;
}

export interface RetryPolicy {
	maxRetries: number;
	baseDelayMs: number;
	/** A Retry-After longer than this fails now instead of holding the execution. */
	maxDelayMs: number;
	/**
	 * For a caller bounded by its own timeout (the trigger's token fetch): the most this call
	 * waits in all, paced waits and retry waits together. A retry wait that does not fit fails now
	 * (a 429 with its Retry-After in `context.retryAfterMs`); a paced wait that does not fit (or is
	 * over maxDelayMs) sends nothing and fails with the wait in `context.retryAfterMs` and
	 * `context.paced`, for the caller to wait out. Default: no bound, and a paced wait over
	 * maxDelayMs is not held (the request goes out).
	 */
	maxTotalDelayMs?: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxRetries: 3, baseDelayMs: 500, maxDelayMs: 60_000 };
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([409, 429, 500, 502, 503, 504]);

/** What to tell the user per status; the message itself is Kallglot's. */
const GUIDANCE: Record<number, string> = {
	400: 'Kallglot rejected the request. Check the parameters named in the message.',
	401: 'The API key was refused. Check the Kallglot credential: the key may be mistyped, expired or revoked.',
	402: 'Your Kallglot API credits are exhausted. Top up credits in the Kallglot portal, then run again; the node does not retry this.',
	403: 'The key is not allowed to do this, or the organization is inactive. Check the organization and the key’s permissions in the Kallglot portal.',
	404: 'Kallglot does not know this resource. Check the ID (sessions start with sess_, agents with agt_).',
	407: 'A proxy between n8n and Kallglot asks for credentials (HTTP 407). Put them in the proxy URL n8n uses: HTTPS_PROXY=http://user:password@proxy:3128.',
	409: 'Another request with the same Idempotency-Key is still running. Wait and run again with the same key.',
	422: 'Kallglot could not validate a field. Fix the parameter named in the message.',
	429: 'Kallglot’s rate limit was reached and the retries were used up. Slow the workflow down (e.g. Loop Over Items with a Wait node) or raise your plan’s limit.',
	500: 'Kallglot had an internal error. Run again later.',
	502: 'Kallglot could not reach the telephony upstream (for a dial: the call could not be placed). Check the number and the routing, then run again.',
	503: 'Kallglot is unavailable. Run again later.',
	504: 'Kallglot timed out. Run again later.',
};

/** Added for a request sent with an Idempotency-Key, where it is true: a retry creates nothing twice. */
const IDEMPOTENT_RETRY: Record<number, string> = {
	500: 'The same Idempotency-Key keeps a retry from creating a duplicate.',
	504: 'The same Idempotency-Key keeps a retry from creating a duplicate.',
};

const CODE_GUIDANCE: Record<string, string> = {
	organization_inactive: 'Your Kallglot organization is inactive. Reactivate it in the Kallglot portal.',
	idempotency_mismatch:
		'This Idempotency-Key was already used with a different request. Use a new key, or send exactly the same parameters as the first time.',
	ai_agent_not_found: 'The AI agent does not exist in this organization. Pick an agent from the list.',
	session_not_found: 'No session has this ID. Sessions are created by Session → Create; check the ID you pass on.',
	recording_not_ready:
		'The recording is still processing (this typically takes a few seconds after the session ends). Run again shortly, or start the workflow from the recording.ready webhook event.',
	recording_not_found: 'No recording has this ID for this API key. Take the ID from Recording → Get Many (IDs start with rec_).',
	recording_failed: 'Kallglot could not process this recording, so it has no audio. Check the session in the Kallglot portal.',
	analysis_not_found: 'No analysis has this ID for this API key. Take the ID from Analysis → Create (IDs start with anl_).',
	session_not_ended:
		'Kallglot analyses a session after it ends. End it first (Session → End), or start the workflow from the session.ended webhook event.',
	recording_consent_required:
		'Kallglot withholds this recording until the caller’s consent is granted. Record the consent on the session (consent state "granted") in Kallglot, then download again.',
};

const header = headerValue;

function scopeGuidance(scope: KallglotScope | undefined): string {
	return scope
		? `This operation needs the API key scope "${scope}", which this key lacks. Add the scope to the key in the Kallglot portal (or use a key that has it) and update the credential.`
		: 'The API key lacks a permission this operation needs. Check the key’s scopes in the Kallglot portal.';
}

/**
 * One pacer per execution context: the node's execute loop attaches it, and every request made
 * with that context (by any operation, current or future) shares it.
 */
const pacers = new WeakMap<object, RateLimitPacer>();

/** Makes every Kallglot request made with `ctx` share `pacer` (call once per execute()). */
export function attachPacer(ctx: KallglotContext, pacer: RateLimitPacer = new RateLimitPacer()): RateLimitPacer {
	pacers.set(ctx, pacer);
	return pacer;
}

function backoffMs(attempt: number, policy: RetryPolicy): number {
	const exp = policy.baseDelayMs * 2 ** attempt;
	return Math.min(policy.maxDelayMs, exp * (0.8 + Math.random() * 0.4));
}

export async function getBaseUrl(this: KallglotContext, itemIndex?: number): Promise<string> {
	const credentials = await this.getCredentials(CREDENTIAL_NAME);
	const parsed = parseBaseUrl(credentials.baseUrl, credentials.apiKey);
	if ('url' in parsed) return parsed.url;
	throw new NodeOperationError(this.getNode(), parsed.problem, {
		itemIndex,
		description: 'Edit the Kallglot credential’s Base URL.',
	});
}

/** `error` is the parsed envelope's content, or undefined when the body was not an envelope. */
function apiError(
	ctx: KallglotContext,
	status: number,
	error: KallglotError | undefined,
	responseHeaders: unknown,
	itemIndex?: number,
	scope?: KallglotScope,
	idempotent = false,
): NodeApiError {
	const fields: KallglotError = error ?? {};
	const requestId = fields.request_id ?? header(responseHeaders, wireHeaders.requestId);
	const code = fields.code ?? `http_${status}`;
	const message = `Kallglot ${status} ${code}: ${fields.message ?? 'no error message'}`;
	const details = [
		fields.param ? `Field: ${fields.param}.` : '',
		fields.code === 'insufficient_permissions'
			? scopeGuidance(scope)
			: ((fields.code && CODE_GUIDANCE[fields.code]) ?? GUIDANCE[status] ?? ''),
		idempotent ? (IDEMPOTENT_RETRY[status] ?? '') : '',
		requestId ? `Kallglot request ID: ${requestId} (quote it to Kallglot support).` : '',
	].filter(Boolean);
	const envelope: JsonObject = error
		? ({ error: { ...error, request_id: requestId } } as JsonObject)
		: { error: { code, message: `HTTP ${status}`, request_id: requestId ?? null } };
	return kallglotApiError(ctx.getNode(), envelope, {
		message,
		description: details.join(' '),
		httpCode: String(status),
		itemIndex,
	});
}

/** A paced wait the caller waits out itself (RetryPolicy.maxTotalDelayMs): nothing was sent. */
function pacedError(ctx: KallglotContext, waitMs: number, itemIndex?: number): NodeApiError {
	const failure = kallglotApiError(
		ctx.getNode(),
		{ error: { code: 'rate_limit_paced', message: 'not sent: the rate limit window has no request left' } },
		{
			message: `Kallglot's rate limit asks to wait ${Math.ceil(waitMs)} ms before the next request (X-RateLimit-Remaining / X-RateLimit-Reset); nothing was sent`,
			description: 'The request waits for the rate limit window to reset instead of collecting a 429.',
			itemIndex,
		},
	);
	failure.context.retryAfterMs = waitMs;
	failure.context.paced = true;
	return failure;
}

/** The execution was stopped (by the user, or its timeout) before or while this request waited. */
export function stoppedError(ctx: KallglotContext, itemIndex?: number): NodeOperationError {
	const failure = new NodeOperationError(ctx.getNode(), 'Stopped: the execution was cancelled, so nothing more was sent to Kallglot', {
		itemIndex,
		description: 'The workflow was stopped or timed out while this request waited or ran.',
	});
	failure.context.stopped = true;
	return failure;
}

/** The cancel signal of an action node's execution; other contexts have none. */
function cancelSignalOf(ctx: KallglotContext): AbortSignal | undefined {
	return 'getExecutionCancelSignal' in ctx ? ctx.getExecutionCancelSignal() : undefined;
}

/**
 * A wait that ends at once when `signal` aborts. Its own controller per wait, so the listener it
 * adds to the execution's signal is removed when the wait ends either way.
 */
const abortableSleep: Sleep = async (ms, signal) => {
	if (!signal) return await sleepWithAbort(ms);
	const own = new AbortController();
	const abort = () => own.abort();
	signal.addEventListener('abort', abort, { once: true });
	try {
		if (signal.aborted) own.abort();
		await sleepWithAbort(ms, own.signal);
	} finally {
		signal.removeEventListener('abort', abort);
	}
};

/** Where a request went and how often: what a network error's message says. */
interface Attempted {
	url: string;
	request: KallglotRequest;
	attempts: number;
}

function networkError(ctx: KallglotContext, cause: unknown, { url, request, attempts }: Attempted): NodeApiError {
	// Built from a sanitized summary: the raw error can carry request headers.
	const failure = explainNetworkFailure(cause, { url, proxy: describeProxy(url) });
	const tried =
		attempts > 1
			? `The request was tried ${attempts} times${request.idempotencyKey ? ' with the same Idempotency-Key, so a retry could not create a duplicate' : ''}.`
			: '';
	return kallglotApiError(
		ctx.getNode(),
		{ error: { code: failure.code ?? 'network_error', message: originalMessage(cause) } },
		{
			message: `Could not reach Kallglot: ${failure.problem}`,
			description: [failure.fix, tried].filter(Boolean).join(' '),
			itemIndex: request.itemIndex,
		},
	);
}

/** Trying again cannot fix a certificate or a host name that does not resolve. */
function worthRetrying(cause: unknown, url: string): boolean {
	return explainNetworkFailure(cause, { url, proxy: null }).transient;
}

/** One Kallglot API call with retries. Resolves with the parsed JSON body of a 2xx answer. */
export async function kallglotApiRequest(
	this: KallglotContext,
	request: KallglotRequest,
	policy: RetryPolicy = DEFAULT_RETRY,
): Promise<IDataObject> {
	return (await sendWithRetries.call(this, request, policy, false)).body as IDataObject;
}

export interface BinaryResponse {
	data: Buffer;
	/** Lower-cased response header names. */
	headers: Record<string, string | undefined>;
}

/**
 * A Kallglot call whose 2xx body is a file (a recording's audio): same authentication, retries
 * and error envelope as kallglotApiRequest; the body comes back as bytes with the headers.
 */
export async function kallglotBinaryRequest(
	this: KallglotContext,
	request: KallglotRequest,
	policy: RetryPolicy = DEFAULT_RETRY,
): Promise<BinaryResponse> {
	const response = await sendWithRetries.call(this, request, policy, true);
	const headers: Record<string, string | undefined> = {};
	for (const [name, value] of Object.entries((response.headers ?? {}) as Record<string, unknown>)) {
		headers[name.toLowerCase()] = Array.isArray(value) ? String(value[0]) : value == null ? undefined : String(value);
	}
	const body = response.body;
	const data = Buffer.isBuffer(body) ? body : body instanceof ArrayBuffer ? Buffer.from(body) : Buffer.from(String(body ?? ''));
	return { data, headers };
}

/** An error body of a binary request arrives as bytes: read it as JSON when it is JSON. */
function asJson(body: unknown): unknown {
	if (!Buffer.isBuffer(body) && !(body instanceof ArrayBuffer)) return body;
	try {
		return JSON.parse(Buffer.from(body as Buffer).toString('utf8'));
	} catch {
		return undefined;
	}
}

async function sendWithRetries(
	this: KallglotContext,
	request: KallglotRequest,
	policy: RetryPolicy,
	binary: boolean,
): Promise<{ body: unknown; headers: unknown; statusCode: number }> {
	const baseUrl = await getBaseUrl.call(this, request.itemIndex);
	const retryOn = request.retryOn ?? RETRYABLE_STATUSES;
	const options: IHttpRequestOptions = {
		method: request.method,
		url: `${baseUrl}${request.path}`,
		qs: request.qs,
		body: request.body,
		json: !binary,
		...(binary ? { encoding: 'arraybuffer' as const } : {}),
		headers: {
			Accept: binary ? '*/*' : 'application/json',
			...(request.idempotencyKey ? { [wireHeaders.idempotencyKey]: request.idempotencyKey } : {}),
		},
		returnFullResponse: true,
		ignoreHttpStatusErrors: true,
		timeout: 30_000,
	};
	const pacer = request.pacer ?? pacers.get(this);
	const signal = request.signal ?? cancelSignalOf(this);
	// Cuts the request in flight too (n8n's HTTP helper does so with the cancel signal anyway).
	if (signal) options.abortSignal = signal;
	const sleep = pacer?.sleep ?? abortableSleep;
	/** Waited so far in this call (paced and retry waits), against policy.maxTotalDelayMs. */
	let waited = 0;
	const inBudget = (ms: number) => waited + ms <= (policy.maxTotalDelayMs ?? Infinity);
	const stopped = () => stoppedError(this, request.itemIndex);
	const pause = async (ms: number) => {
		try {
			await sleep(ms, signal);
		} catch {
			throw stopped();
		}
		waited += ms;
		if (signal?.aborted) throw stopped();
	};

	for (let attempt = 0; ; attempt++) {
		let response: { body: unknown; headers: unknown; statusCode: number };
		if (signal?.aborted) throw stopped();
		const paced = pacer?.delayMs() ?? 0;
		if (paced > 0) {
			if (paced <= policy.maxDelayMs && inBudget(paced)) await pause(paced);
			else if (policy.maxTotalDelayMs !== undefined) throw pacedError(this, paced, request.itemIndex);
			// Otherwise a wait longer than the policy allows is not held here: the request goes out,
			// and a 429 answer fails fast with Kallglot's own Retry-After.
		}
		const sentAt = pacer?.time() ?? Date.now();
		try {
			response = await this.helpers.httpRequestWithAuthentication.call(this, CREDENTIAL_NAME, options);
			pacer?.observe(response.headers, sentAt, response.statusCode);
		} catch (error) {
			if (signal?.aborted) throw stopped();
			const backoff = backoffMs(attempt, policy);
			if (attempt < policy.maxRetries && inBudget(backoff) && worthRetrying(error, options.url)) {
				await pause(backoff);
				continue;
			}
			throw networkError(this, error, { url: options.url, request, attempts: attempt + 1 });
		}

		const status = response.statusCode;
		if (status >= 200 && status < 300) return response;

		const parsed = errorEnvelope.safeParse(asJson(response.body));
		const error = parsed.success ? parsed.data.error : undefined;
		const wait = retryDelayHint(header(response.headers, wireHeaders.retryAfter), error?.retry_after);
		const retryable = retryOn.has(status) && (status !== 409 || error?.code === 'idempotency_conflict');
		const delay = wait ?? backoffMs(attempt, policy);
		if (retryable && attempt < policy.maxRetries && delay <= policy.maxDelayMs && inBudget(delay) && !signal?.aborted) {
			await pause(delay);
			continue;
		}
		const failure = apiError(this, status, error, response.headers, request.itemIndex, request.scope, request.idempotencyKey !== undefined);
		// The wait Kallglot asked for, for a caller that waits elsewhere (the trigger's poll of a session).
		if (wait !== null) failure.context.retryAfterMs = wait;
		throw failure;
	}
}

/** What to tell the user for a Kallglot error code (also for states seen before any error). */
export function codeGuidance(code: string): string | undefined {
	return CODE_GUIDANCE[code];
}
