/** Kallglot's error envelope and the exception the REST handlers throw. */

export interface ErrorBody {
	type: string;
	code: string;
	message: string;
	param?: string;
	request_id: string;
	retry_after?: number;
}

export interface ErrorEnvelope {
	error: ErrorBody;
}

/**
 * Kallglot names only `invalid_request_error` (400) and `rate_limit_error` (429); the other
 * types are the sandbox's choice, in the same style.
 */
export function errorTypeForStatus(status: number): string {
	if (status === 401) return 'authentication_error';
	if (status === 402) return 'billing_error';
	if (status === 403) return 'permission_error';
	if (status === 422) return 'validation_error';
	if (status === 429) return 'rate_limit_error';
	if (status >= 500) return 'api_error';
	return 'invalid_request_error';
}

/** Default `code` for an injected fault status that names none. */
export function defaultCodeForStatus(status: number): string {
	switch (status) {
		case 400:
			return 'invalid_request';
		case 401:
			return 'invalid_api_key';
		case 402:
			return 'insufficient_api_credits';
		case 403:
			return 'organization_inactive';
		case 404:
			return 'not_found';
		case 409:
			return 'idempotency_conflict';
		case 422:
			return 'validation_error';
		case 429:
			return 'rate_limit_exceeded';
		case 502:
			return 'upstream_error';
		case 503:
			return 'service_unavailable';
		default:
			return status >= 500 ? 'internal_error' : 'injected_fault';
	}
}

export class ApiError extends Error {
	constructor(
		readonly status: number,
		readonly code: string,
		message: string,
		readonly param?: string,
		readonly retryAfter?: number,
	) {
		super(message);
		this.name = 'ApiError';
	}

	toEnvelope(requestId: string): ErrorEnvelope {
		const error: ErrorBody = {
			type: errorTypeForStatus(this.status),
			code: this.code,
			message: this.message,
			...(this.param !== undefined ? { param: this.param } : {}),
			request_id: requestId,
			...(this.retryAfter !== undefined ? { retry_after: this.retryAfter } : {}),
		};
		return { error };
	}
}
