/**
 * The one Kallglot API client of the three nodes. Built explicitly by its owner — per execution of
 * the action node, per trigger instance, per webhook delivery — with the clock its waits run on,
 * the pacer its requests share and the signal that stops them. A call names its endpoint
 * (endpoints.ts), which fixes method, path, scope, Idempotency-Key, retry policy and the schema of
 * the answer; the compiler asks for the path IDs and, where the endpoint needs one, the key.
 */
import type { IDataObject, INode } from 'n8n-workflow';
import type { z } from 'zod';

import { sleep, type Clock } from '../clock';
import { ENDPOINTS, type Endpoint, type EndpointName, type Endpoints, type ListEndpointName, type PathArgs } from './endpoints';
import { unexpectedAnswer } from './errors';
import { nextCursor, paginate, type Page } from './paginate';
import { RETRY, type RetryPolicy, type RetryPolicyName } from './retry';
import { send, type KallglotContext, type TransportDeps } from './transport';

export interface KallglotApiOptions extends TransportDeps {
	/** Stops every call of this client unless a call names its own (an action node: the execution's cancel signal). */
	signal?: AbortSignal;
}

export interface CallOptions {
	itemIndex?: number;
	/** Stops this call, its waits and its retries (default: the client's signal). */
	signal?: AbortSignal;
	/** A policy of the caller's own deadline instead of the endpoint's (retry.ts). */
	retry?: RetryPolicyName;
	/** Caps the policy's longest wait for this call (a caller with a deadline: what is left of it). */
	maxDelayMs?: number;
	body?: object;
	qs?: Record<string, string | number>;
}

/** An endpoint sent with an Idempotency-Key takes the key, and its options are then required. */
type KeyOption<K extends EndpointName> = Endpoints[K]['idempotent'] extends true ? { idempotencyKey: string } : { idempotencyKey?: undefined };
export type OptionsOf<K extends EndpointName> = CallOptions & KeyOption<K>;
type OptionArgs<K extends EndpointName> = Endpoints[K]['idempotent'] extends true ? [options: OptionsOf<K>] : [options?: OptionsOf<K>];

export interface BinaryResponse {
	data: Buffer;
	/** Lower-cased response header names. */
	headers: Record<string, string | undefined>;
}

type Schema<K extends EndpointName> = Endpoints[K]['response'];
/** What a call resolves with: the answer as its schema reads it (an n8n JSON object), or a file. */
export type ResponseOf<K extends EndpointName> = Schema<K> extends z.ZodTypeAny ? IDataObject & z.infer<Schema<K>> : BinaryResponse;
/** One element of a list endpoint's `data`. */
export type ItemOf<K extends ListEndpointName> = IDataObject & z.infer<Schema<K>>['data'][number];

export interface PageOptions extends CallOptions {
	cursor?: string;
	pageSize?: number;
}

export interface ListOptions extends CallOptions {
	/** The most items returned; default: all of them. */
	limit?: number;
}

export class KallglotApi {
	constructor(
		private readonly ctx: KallglotContext,
		private readonly options: KallglotApiOptions,
	) {}

	/** The node the calls are made for, for errors raised around them. */
	get node(): INode {
		return this.ctx.getNode();
	}

	/** The clock the client's waits run on, for a caller's own deadline. */
	get clock(): Clock {
		return this.options.clock;
	}

	/** A pause between calls (a poll's) on the client's clock; ends at once when the signal aborts. */
	async pause(ms: number, signal: AbortSignal | undefined = this.options.signal): Promise<void> {
		await sleep(this.options.clock, ms, signal);
	}

	async call<K extends EndpointName>(name: K, ids: PathArgs<K>, ...[options]: OptionArgs<K>): Promise<ResponseOf<K>> {
		const endpoint: Endpoint = ENDPOINTS[name];
		const call = (options ?? {}) as CallOptions & { idempotencyKey?: string };
		const path = endpoint.path(...(ids as string[]));
		const response = await send(
			this.ctx,
			{
				method: endpoint.method,
				path,
				body: call.body,
				qs: call.qs,
				idempotencyKey: endpoint.idempotent ? call.idempotencyKey : undefined,
				itemIndex: call.itemIndex,
				scope: endpoint.scope,
				signal: call.signal ?? this.options.signal,
				binary: endpoint.response === 'binary',
			},
			capped(RETRY[call.retry ?? endpoint.retry], call.maxDelayMs),
			this.options,
		);
		if (endpoint.response === 'binary') return binaryResponse(response) as ResponseOf<K>;
		const parsed = endpoint.response.safeParse(response.body);
		if (parsed.success) return parsed.data as ResponseOf<K>;
		const issue = parsed.error.issues[0];
		const where = issue?.path.length ? `${issue.path.join('.')} ` : '';
		throw unexpectedAnswer(this.ctx.getNode(), `${endpoint.method} ${path}`, `${where}${issue?.message ?? 'invalid'}`, call.itemIndex);
	}

	/** One page of a list, and the cursor of the next. */
	async page<K extends ListEndpointName>(name: K, ids: PathArgs<K>, options: PageOptions = {}): Promise<Page<ItemOf<K>>> {
		const { cursor, pageSize, ...call } = options;
		const list = ENDPOINTS[name].list;
		const answer = (await this.call(name as ListEndpointName, ids as never, {
			...call,
			qs: list.query({ cursor, pageSize: Math.min(pageSize ?? list.maxPageSize, list.maxPageSize) }),
		})) as { data: Array<ItemOf<K>>; has_more?: boolean | null };
		return { items: answer.data, next: nextCursor(answer.data, answer.has_more) };
	}

	/** Every item of a list up to `limit` (Return All / Limit over Kallglot's cursor). */
	async list<K extends ListEndpointName>(name: K, ids: PathArgs<K>, options: ListOptions = {}): Promise<Array<ItemOf<K>>> {
		const { limit = Infinity, ...call } = options;
		const { maxPageSize, maxPages } = ENDPOINTS[name].list;
		return await paginate((cursor, pageSize) => this.page(name, ids, { ...call, cursor, pageSize }), { limit, maxPageSize, maxPages });
	}
}

function capped(policy: RetryPolicy, maxDelayMs: number | undefined): RetryPolicy {
	return maxDelayMs === undefined ? policy : { ...policy, maxDelayMs: Math.min(policy.maxDelayMs, maxDelayMs) };
}

function binaryResponse(response: { body: unknown; headers: unknown }): BinaryResponse {
	const headers: Record<string, string | undefined> = {};
	for (const [name, value] of Object.entries((response.headers ?? {}) as Record<string, unknown>)) {
		headers[name.toLowerCase()] = Array.isArray(value) ? String(value[0]) : value == null ? undefined : String(value);
	}
	const body = response.body;
	const data = Buffer.isBuffer(body) ? body : body instanceof ArrayBuffer ? Buffer.from(body) : Buffer.from(String(body ?? ''));
	return { data, headers };
}
