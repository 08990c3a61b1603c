/**
 * Every setting of the Kallglot Trigger, read and coerced in one place (as n8n's Kafka trigger
 * reads its own), so that trigger() only wires the listener to n8n.
 */
import type { IDataObject, ITriggerFunctions } from 'n8n-workflow';

import { readCreateSessionInput } from '../shared/session/createSession';
import { validateParameters } from '../shared/fields/validation';
import { commaList } from '../shared/commaList';
import { streamAgent } from '../shared/proxy';
import { sessionRef, toCreateSessionBody } from '../shared/wire';
import type { EventChoice, EventSelection } from './items';
import type { ListenerOptions, SessionSource } from './listener';

export interface TriggerSettings
	extends Pick<ListenerOptions, 'source' | 'selection' | 'emitAs' | 'batch' | 'flow' | 'emitReconnects' | 'endCreatedSessionOnClose' | 'stream'> {
	/** The body of POST /v1/sessions when the trigger creates its sessions (validated already). */
	createBody(): IDataObject;
}

/** The lower-cased parts of a comma list (filters). */
const lowerList = (value: unknown) => commaList(value).map((part) => part.toLowerCase());

/** Throws a NodeOperationError (via validateParameters) on a bad session setting: activation fails before any call. */
export function readSettings(this: ITriggerFunctions): TriggerSettings {
	const node = this.getNode();
	const options = this.getNodeParameter('options', {}) as IDataObject;
	const filters = this.getNodeParameter('filters', {}) as IDataObject;
	/** A positive number option, or its default when unset or not positive. */
	const number = (name: string, fallback: number) => {
		const value = Number(options[name] ?? fallback);
		return Number.isFinite(value) && value > 0 ? value : fallback;
	};

	let source: SessionSource;
	let createBody: () => IDataObject = () => ({});
	if (this.getNodeParameter('sessionSource', 'create') === 'existing') {
		const { sessionId } = validateParameters(sessionRef, { sessionId: this.getNodeParameter('sessionId', '') }, node, 0);
		source = { kind: 'existing', sessionId };
	} else {
		// Validated now, so a bad field fails activation before any session exists.
		const input = readCreateSessionInput((name, fallback) => this.getNodeParameter(name, fallback), node, 0);
		createBody = () => toCreateSessionBody(input) as IDataObject;
		source = { kind: 'create', afterEnd: this.getNodeParameter('afterSessionEnds', 'stop') as 'stop' | 'createNext' };
	}

	const selection: EventSelection = {
		events: new Set(this.getNodeParameter('events', ['finals', 'ended']) as EventChoice[]),
		speakers: new Set(lowerList(filters.speakers)),
		languages: new Set(lowerList(filters.languages)),
		includeRaw: options.includeRaw === true,
		passUnknown: options.passUnknown === true,
	};
	const emitAs = this.getNodeParameter('emitAs', 'event') as TriggerSettings['emitAs'];
	return {
		source,
		createBody,
		selection,
		emitAs,
		batch: {
			maxEvents: emitAs === 'batch' ? Math.max(1, Math.round(Number(this.getNodeParameter('batchSize', 20)) || 20)) : 1,
			maxWaitMs: emitAs === 'batch' ? Math.max(1, Number(this.getNodeParameter('batchSeconds', 10)) || 10) * 1000 : 1000,
		},
		flow: {
			concurrency: Math.round(number('parallelExecutions', 1)),
			maxQueued: Math.round(number('maxQueuedItems', 100)),
		},
		emitReconnects: options.emitReconnects === true,
		endCreatedSessionOnClose: options.endSessionOnDeactivate !== false,
		stream: {
			// Through HTTPS_PROXY / HTTP_PROXY unless NO_PROXY says otherwise, as n8n's REST calls.
			agentFor: streamAgent,
			pingIntervalMs: number('pingIntervalSeconds', 15) * 1000,
			maxFrameBytes: number('maxFrameKb', 256) * 1024,
			reconnect: {
				maxAttempts: Math.round(number('maxReconnectAttempts', 10)),
				maxDelayMs: number('maxReconnectDelaySeconds', 30) * 1000,
			},
		},
	};
}
