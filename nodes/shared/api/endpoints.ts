/**
 * Every Kallglot endpoint the nodes call, each declared once: method, path (relative to the
 * credential's base URL, which ends in /v1; the only place paths are written), the API key scope it needs (named in a 403), whether it costs an API credit, whether it
 * is sent with an Idempotency-Key, its retry policy and the schema its answer is read with.
 * The client (client.ts) types each call from this table: the path arguments, a required
 * Idempotency-Key, the parsed answer. No n8n import.
 */
import { z } from 'zod';

import {
	agentListQuery,
	agentListResponse,
	analysisResponse,
	recordingListQuery,
	recordingListResponse,
	recordingResponse,
	sessionResponse,
	transcriptResponse,
	type KallglotScope,
} from '../wire';
import type { RetryPolicyName } from './retry';

/** One path segment: an ID as Kallglot's URL holds it. */
const id = (value: string) => encodeURIComponent(value);

/** An answer the node passes on as it is (End's summary, Dial's answer): any JSON object. */
export const anyObjectResponse = z.object({}).passthrough();

/** A list answered page by page: `data`, `has_more`, and a `starting_after` cursor. */
export interface ListSpec {
	/** The query of one page: after `cursor` (the last ID of the page before), at most `pageSize`. */
	query: (page: { cursor?: string; pageSize: number }) => Record<string, string | number> | undefined;
	/** The most a page may hold (Kallglot's `limit` maximum); also the page size of Return All. */
	maxPageSize: number;
	/** A bound on the pages followed, against a cursor that never ends. */
	maxPages: number;
}

export interface Endpoint {
	method: 'GET' | 'POST';
	path: (...ids: string[]) => string;
	/** null: Kallglot names no scope for it. */
	scope: KallglotScope | null;
	/** Costs an API credit (Kallglot bills session and analysis creation). */
	billable: boolean;
	/** Sent with an Idempotency-Key, kept on every retry: a retried call acts once. */
	idempotent: boolean;
	retry: RetryPolicyName;
	/** The schema the 2xx JSON answer is read with; 'binary': the answer is a file. */
	response: z.ZodTypeAny | 'binary';
	list?: ListSpec;
}

export const ENDPOINTS = {
	createSession: {
		method: 'POST',
		path: () => '/sessions',
		scope: 'sessions:write',
		billable: true,
		idempotent: true,
		retry: 'default',
		response: sessionResponse,
	},
	getSession: {
		method: 'GET',
		path: (sessionId: string) => `/sessions/${id(sessionId)}`,
		scope: 'sessions:read',
		billable: false,
		idempotent: false,
		retry: 'default',
		response: sessionResponse,
	},
	// Kallglot ends an ended session without a second effect; the key is sent all the same.
	endSession: {
		method: 'POST',
		path: (sessionId: string) => `/sessions/${id(sessionId)}/end`,
		scope: 'sessions:write',
		billable: false,
		idempotent: true,
		retry: 'default',
		response: anyObjectResponse,
	},
	dialSession: {
		method: 'POST',
		path: (sessionId: string) => `/sessions/${id(sessionId)}/dial`,
		scope: 'sessions:write',
		billable: false,
		idempotent: true,
		retry: 'dial',
		response: anyObjectResponse,
	},
	getTranscript: {
		method: 'GET',
		path: (sessionId: string) => `/sessions/${id(sessionId)}/transcript`,
		scope: 'sessions:read',
		billable: false,
		idempotent: false,
		retry: 'default',
		response: transcriptResponse,
	},
	listAgents: {
		method: 'GET',
		path: () => '/agents',
		scope: null,
		billable: false,
		idempotent: false,
		retry: 'default',
		response: agentListResponse,
		list: { query: ({ cursor, pageSize }) => agentListQuery(pageSize, cursor), maxPageSize: 100, maxPages: Infinity },
	},
	listRecordings: {
		method: 'GET',
		path: (sessionId: string) => `/sessions/${id(sessionId)}/recordings`,
		scope: 'recordings:read',
		billable: false,
		idempotent: false,
		retry: 'default',
		response: recordingListResponse,
		// The recordings list documents no page size: pages are Kallglot's, followed at most 50 times.
		list: { query: ({ cursor }) => recordingListQuery(cursor), maxPageSize: Infinity, maxPages: 50 },
	},
	getRecording: {
		method: 'GET',
		path: (recordingId: string) => `/recordings/${id(recordingId)}`,
		scope: 'recordings:read',
		billable: false,
		idempotent: false,
		retry: 'default',
		response: recordingResponse,
	},
	/**
	 * From this path on the credential's base URL, not from the answer's `download_url`: the API
	 * key is never sent to a host an API answer names.
	 */
	getRecordingAudio: {
		method: 'GET',
		path: (recordingId: string) => `/recordings/${id(recordingId)}/audio`,
		scope: 'recordings:read',
		billable: false,
		idempotent: false,
		retry: 'default',
		response: 'binary',
	},
	createAnalysis: {
		method: 'POST',
		path: (sessionId: string) => `/sessions/${id(sessionId)}/analysis`,
		scope: 'analysis:read',
		billable: true,
		idempotent: true,
		retry: 'default',
		response: analysisResponse,
	},
	getAnalysis: {
		method: 'GET',
		path: (analysisId: string) => `/analyses/${id(analysisId)}`,
		scope: 'analysis:read',
		billable: false,
		idempotent: false,
		retry: 'default',
		response: analysisResponse,
	},
} as const satisfies Record<string, Endpoint>;

export type Endpoints = typeof ENDPOINTS;
export type EndpointName = keyof Endpoints;
/** The IDs a call's path takes, in order. */
export type PathArgs<K extends EndpointName> = Parameters<Endpoints[K]['path']>;
/** Endpoints whose answer is a list of pages. */
export type ListEndpointName = { [K in EndpointName]: Endpoints[K] extends { list: ListSpec } ? K : never }[EndpointName];
