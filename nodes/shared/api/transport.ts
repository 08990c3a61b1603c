/**
 * One HTTP exchange with Kallglot, retried: pace → send → classify → wait. Authentication comes
 * from the credential (n8n's helper); every wait (paced, backoff, Retry-After) is on the injected
 * clock and ends at once when the call's signal aborts. What to call, with which scope and policy,
 * is the client's (client.ts).
 */
import type {
	IExecuteFunctions,
	IHttpRequestMethods,
	IHttpRequestOptions,
	ILoadOptionsFunctions,
	ITriggerFunctions,
	IWebhookFunctions,
} from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { parseBaseUrl } from '../baseUrl';
import { sleep, type Clock } from '../clock';
import { explainNetworkFailure } from '../networkFailure';
import { headerValue, readLimitHeaders, retryDelayHint, type RateLimitPacer } from '../rateLimit';
import { errorEnvelope, headers as wireHeaders, type KallglotScope } from '../wire';
import { apiError, networkError, pacedError, stoppedError } from './errors';
import { backoffMs, RETRYABLE_STATUSES, type RetryPolicy } from './retry';

export type KallglotContext = IExecuteFunctions | ILoadOptionsFunctions | ITriggerFunctions | IWebhookFunctions;

export const CREDENTIAL_NAME = 'kallglotApi';

/** What a client holds for all its calls: the clock every wait goes through, and the pacer. */
export interface TransportDeps {
	clock: Clock;
	/** Paces each request by what earlier answers said about the rate limit. */
	pacer?: RateLimitPacer;
	/** Jitter of the retry backoff (tests pin it). */
	random?: () => number;
}

export interface KallglotRequest {
	method: IHttpRequestMethods;
	path: string;
	body?: object;
	qs?: Record<string, string | number>;
	/** Sent unchanged on every retry, so a retried create can never bill twice. */
	idempotencyKey?: string;
	itemIndex?: number;
	/** Named in the error when Kallglot answers 403 insufficient_permissions. */
	scope?: KallglotScope | null;
	/** Stops the request, its waits and its retries at once. */
	signal?: AbortSignal;
	/** The 2xx body comes back as bytes. */
	binary?: boolean;
}

export interface RawResponse {
	body: unknown;
	headers: unknown;
	statusCode: number;
}

export async function getBaseUrl(ctx: KallglotContext, itemIndex?: number): Promise<string> {
	const credentials = await ctx.getCredentials(CREDENTIAL_NAME);
	const parsed = parseBaseUrl(credentials.baseUrl, credentials.apiKey);
	if ('url' in parsed) return parsed.url;
	throw new NodeOperationError(ctx.getNode(), parsed.problem, {
		itemIndex,
		description: 'Edit the Kallglot credential’s Base URL.',
	});
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

/** Trying again cannot fix a certificate or a host name that does not resolve. */
function worthRetrying(cause: unknown, url: string): boolean {
	return explainNetworkFailure(cause, { url, proxy: null }).transient;
}

/** A 429 with no Retry-After: the wait until X-RateLimit-Reset, or null when it does not say. */
function untilReset(headers: unknown, now: number): number | null {
	const reading = readLimitHeaders(headers);
	return reading === null ? null : Math.max(0, reading.resetAt - now);
}

/** One Kallglot call with retries. Resolves with the full 2xx answer; any other ends in a node error. */
export async function send(ctx: KallglotContext, request: KallglotRequest, policy: RetryPolicy, deps: TransportDeps): Promise<RawResponse> {
	const { clock, pacer } = deps;
	const node = ctx.getNode();
	const { itemIndex, signal, binary = false } = request;
	const idempotent = request.idempotencyKey !== undefined;
	const baseUrl = await getBaseUrl(ctx, itemIndex);
	const retryOn = policy.retryOn ?? RETRYABLE_STATUSES;
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
	// Cuts the request in flight too (n8n's HTTP helper does so with the cancel signal anyway).
	if (signal) options.abortSignal = signal;
	/** Waited so far in this call (paced and retry waits), against policy.maxTotalDelayMs. */
	let waited = 0;
	const inBudget = (ms: number) => waited + ms <= (policy.maxTotalDelayMs ?? Infinity);
	const wait = async (ms: number) => {
		await sleep(clock, ms, signal);
		waited += ms;
		if (signal?.aborted) throw stoppedError(node, itemIndex);
	};

	/** Waited so far for 429s that named their wait, against policy.rateLimitWaitMs (not retries). */
	let rateLimitWaited = 0;
	/** `attempt`: requests sent so far; `retries`: of maxRetries, used by errors and by 429s past rateLimitWaitMs. */
	for (let attempt = 0, retries = 0; ; attempt++) {
		if (signal?.aborted) throw stoppedError(node, itemIndex);
		// Pace.
		const paced = pacer?.delayMs() ?? 0;
		if (paced > 0) {
			if (paced <= policy.maxDelayMs && inBudget(paced)) await wait(paced);
			else if (policy.maxTotalDelayMs !== undefined) throw pacedError(node, paced, itemIndex);
			// Otherwise a wait longer than the policy allows is not held here: the request goes out,
			// and a 429 answer fails fast with Kallglot's own Retry-After.
		}
		// Send.
		const sentAt = clock.now();
		let response: RawResponse;
		try {
			response = await ctx.helpers.httpRequestWithAuthentication.call(ctx, CREDENTIAL_NAME, options);
			pacer?.observe(response.headers, sentAt, response.statusCode);
		} catch (error) {
			if (signal?.aborted) throw stoppedError(node, itemIndex);
			const backoff = backoffMs(retries, policy, deps.random);
			if (retries < policy.maxRetries && inBudget(backoff) && worthRetrying(error, options.url)) {
				retries++;
				await wait(backoff);
				continue;
			}
			throw networkError(node, error, { url: options.url, itemIndex, idempotent, attempts: attempt + 1 });
		}

		// Classify.
		const status = response.statusCode;
		if (status >= 200 && status < 300) return response;
		const parsed = errorEnvelope.safeParse(asJson(response.body));
		const error = parsed.success ? parsed.data.error : undefined;
		const hint = retryDelayHint(headerValue(response.headers, wireHeaders.retryAfter), error?.retry_after, clock.now());
		const retryable = retryOn.has(status) && (status !== 409 || error?.code === 'idempotency_conflict');
		// Wait, or fail. A 429 that names its wait is Kallglot asking for time, not an error: another
		// execution on the key may take each window's requests first, so it is waited out apart from
		// the retries (see RetryPolicy.rateLimitWaitMs).
		const asked = status === 429 && retryable ? (hint ?? untilReset(response.headers, clock.now())) : null;
		if (asked !== null && asked <= policy.maxDelayMs && inBudget(asked) && !signal?.aborted) {
			const charged = Math.max(asked, policy.baseDelayMs);
			if (rateLimitWaited + charged <= (policy.rateLimitWaitMs ?? -1)) {
				rateLimitWaited += charged;
				await wait(asked);
				continue;
			}
		}
		const delay = hint ?? backoffMs(retries, policy, deps.random);
		if (retryable && retries < policy.maxRetries && delay <= policy.maxDelayMs && inBudget(delay) && !signal?.aborted) {
			retries++;
			await wait(delay);
			continue;
		}
		const failure = apiError(node, status, error, response.headers, { itemIndex, scope: request.scope, idempotent });
		// The wait Kallglot asked for, for a caller that waits elsewhere (the trigger's poll of a session).
		if (hint !== null) failure.context.retryAfterMs = hint;
		throw failure;
	}
}
