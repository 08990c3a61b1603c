/**
 * What a failed Kallglot call tells the user: Kallglot's error envelope as a NodeApiError with
 * its code, message and request ID, and a fix per status or code; a network failure; a stop.
 */
import type { INode, JsonObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { explainNetworkFailure, originalMessage, PROXY_CREDENTIALS_FIX } from '../networkFailure';
import { kallglotApiError, kallglotOperationError } from '../nodeError';
import { describeProxy } from '../proxy';
import { headerValue } from '../rateLimit';
import { headers as wireHeaders, type KallglotError, type KallglotScope } from '../wire';

/** What to tell the user per status; the message itself is Kallglot's. */
const GUIDANCE: Record<number, string> = {
	400: 'Kallglot rejected the request. Check the parameters named in the message.',
	401: 'The API key was refused. Check the Kallglot credential: the key may be mistyped, expired or revoked.',
	402: 'Your Kallglot API credits are exhausted. Top up credits in the Kallglot portal, then run again; the node does not retry this.',
	403: 'The key is not allowed to do this, or the organization is inactive. Check the organization and the key’s permissions in the Kallglot portal.',
	404: 'Kallglot does not know this resource. Check the ID (sessions start with sess_, agents with agt_).',
	407: `A proxy between n8n and Kallglot asks for credentials (HTTP 407). ${PROXY_CREDENTIALS_FIX}`,
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

/** What to tell the user for a Kallglot error code (also for states seen before any error). */
export function codeGuidance(code: string): string | undefined {
	return CODE_GUIDANCE[code];
}

function scopeGuidance(scope: KallglotScope | null | undefined): string {
	return scope
		? `This operation needs the API key scope "${scope}", which this key lacks. Add the scope to the key in the Kallglot portal (or use a key that has it) and update the credential.`
		: 'The API key lacks a permission this operation needs. Check the key’s scopes in the Kallglot portal.';
}

/** What the error of one call names besides Kallglot's answer. */
export interface FailedCall {
	itemIndex?: number;
	scope?: KallglotScope | null;
	/** Sent with an Idempotency-Key. */
	idempotent: boolean;
}

/** `error` is the parsed envelope's content, or undefined when the body was not an envelope. */
export function apiError(node: INode, status: number, error: KallglotError | undefined, responseHeaders: unknown, call: FailedCall): NodeApiError {
	const fields: KallglotError = error ?? {};
	const requestId = fields.request_id ?? headerValue(responseHeaders, wireHeaders.requestId);
	const code = fields.code ?? `http_${status}`;
	const message = `Kallglot ${status} ${code}: ${fields.message ?? 'no error message'}`;
	const details = [
		fields.param ? `Field: ${fields.param}.` : '',
		fields.code === 'insufficient_permissions'
			? scopeGuidance(call.scope)
			: ((fields.code && CODE_GUIDANCE[fields.code]) ?? GUIDANCE[status] ?? ''),
		call.idempotent ? (IDEMPOTENT_RETRY[status] ?? '') : '',
		requestId ? `Kallglot request ID: ${requestId} (quote it to Kallglot support).` : '',
	].filter(Boolean);
	const envelope: JsonObject = error
		? ({ error: { ...error, request_id: requestId } } as JsonObject)
		: { error: { code, message: `HTTP ${status}`, request_id: requestId ?? null } };
	return kallglotApiError(node, envelope, {
		message,
		description: details.join(' '),
		httpCode: String(status),
		itemIndex: call.itemIndex,
	});
}

/** A paced wait the caller waits out itself (RetryPolicy.maxTotalDelayMs): nothing was sent. */
export function pacedError(node: INode, waitMs: number, itemIndex?: number): NodeApiError {
	const failure = kallglotApiError(
		node,
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
export function stoppedError(node: INode, itemIndex?: number): NodeOperationError {
	const failure = new NodeOperationError(node, 'Stopped: the execution was cancelled, so nothing more was sent to Kallglot', {
		itemIndex,
		description: 'The workflow was stopped or timed out while this request waited or ran.',
	});
	failure.context.stopped = true;
	return failure;
}

/** Where a request went and how often: what a network error's message says. */
export interface Attempted {
	url: string;
	itemIndex?: number;
	idempotent: boolean;
	attempts: number;
}

export function networkError(node: INode, cause: unknown, { url, itemIndex, idempotent, attempts }: Attempted): NodeApiError {
	// Built from a sanitized summary: the raw error can carry request headers.
	const failure = explainNetworkFailure(cause, { url, proxy: describeProxy(url) });
	const tried =
		attempts > 1
			? `The request was tried ${attempts} times${idempotent ? ' with the same Idempotency-Key, so a retry could not create a duplicate' : ''}.`
			: '';
	return kallglotApiError(
		node,
		{ error: { code: failure.code ?? 'network_error', message: originalMessage(cause) } },
		{
			message: `Could not reach Kallglot: ${failure.problem}`,
			description: [failure.fix, tried].filter(Boolean).join(' '),
			itemIndex,
		},
	);
}

/** A 2xx answer the node cannot read: named with the endpoint, without its body (it may hold secrets). */
export function unexpectedAnswer(node: INode, call: string, problem: string, itemIndex?: number): NodeOperationError {
	return kallglotOperationError(node, `Kallglot's answer to ${call} is not what the node expects: ${problem}`, {
		itemIndex,
		description: 'The credential’s Base URL may point at something other than Kallglot’s v1 API. Check it, then run again.',
	});
}
