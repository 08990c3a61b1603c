import type { INode, JsonObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

/** The options n8n-workflow's constructors take (the types themselves are not exported). */
type ApiErrorOptions = NonNullable<ConstructorParameters<typeof NodeApiError>[2]>;
type OperationErrorOptions = NonNullable<ConstructorParameters<typeof NodeOperationError>[2]>;

/**
 * n8n's error classes replace a message that contains a Node error code (ECONNREFUSED, ENOTFOUND,
 * "getaddrinfo", …) or, on a NodeApiError, one whose code field is such a code, with a generic
 * sentence of their own ("The service refused the connection - perhaps it is offline"), and
 * keep ours only among the details. Our messages name Kallglot, the host and the cause, so the
 * one we wrote is put back: it is what the error panel shows.
 */
function keepOwnMessage<E extends NodeApiError | NodeOperationError>(error: E, message: string): E {
	if (error.message !== message) {
		error.message = message;
		error.messages = error.messages.filter((m) => m !== message);
	}
	return error;
}

/** A NodeApiError whose message stays `options.message`. */
export function kallglotApiError(node: INode, body: JsonObject, options: ApiErrorOptions & { message: string }): NodeApiError {
	return keepOwnMessage(new NodeApiError(node, body, options), options.message);
}

/** A NodeOperationError whose message stays `message`. */
export function kallglotOperationError(node: INode, message: string, options: OperationErrorOptions = {}): NodeOperationError {
	return keepOwnMessage(new NodeOperationError(node, message, options), message);
}

/**
 * An error as it leaves node code: a NodeApiError or NodeOperationError as it is (so Kallglot's
 * status, code and request ID stay), anything else wrapped in a NodeOperationError with its message.
 */
export function asNodeError(node: INode, error: unknown, itemIndex?: number): NodeApiError | NodeOperationError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) return error;
	const wrapped = new NodeOperationError(node, error as Error, { itemIndex });
	return error instanceof Error && error.message ? keepOwnMessage(wrapped, error.message) : wrapped;
}
