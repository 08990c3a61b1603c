import type {
	IDataObject,
	IRun,
	INodeType,
	INodeTypeDescription,
	ITriggerFunctions,
	ITriggerResponse,
} from 'n8n-workflow';
import { NodeConnectionTypes, TriggerCloseError } from 'n8n-workflow';

import { searchAgents } from '../Kallglot/listSearch/searchAgents';
import { readCreateSessionInput } from '../Kallglot/resources/session/create';
import { validateParameters } from '../Kallglot/shared/validation';
import { asNodeError, kallglotOperationError } from '../shared/nodeError';
import { streamAgent } from '../shared/proxy';
import { EmittedFinals } from '../shared/stream/emitted';
import { sessionRef, toCreateSessionBody } from '../shared/wire';
import { properties } from './description';
import type { EventChoice, EventSelection } from './items';
import { ListenerStartError, SessionListener, type SessionSource } from './listener';
import { sessionApi } from './sessionApi';

const list = (value: unknown): string[] =>
	(Array.isArray(value) ? value.map(String) : String(value ?? '').split(','))
		.map((v) => v.trim().toLowerCase())
		.filter(Boolean);

function readSelection(ctx: ITriggerFunctions): EventSelection {
	const filters = ctx.getNodeParameter('filters', {}) as IDataObject;
	const options = ctx.getNodeParameter('options', {}) as IDataObject;
	return {
		events: new Set(ctx.getNodeParameter('events', ['finals', 'ended']) as EventChoice[]),
		speakers: new Set(list(filters.speakers)),
		languages: new Set(list(filters.languages)),
		includeRaw: options.includeRaw === true,
		passUnknown: options.passUnknown === true,
	};
}

export class KallglotTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Kallglot Trigger',
		name: 'kallglotTrigger',
		icon: { light: 'file:kallglot.svg', dark: 'file:kallglot.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{ $parameter["sessionSource"] === "existing" ? $parameter["sessionId"] : "new session" }}',
		description: 'Starts the workflow on live transcripts and translations of a Kallglot session',
		eventTriggerDescription: 'Waiting for Kallglot to stream a transcript',
		activationMessage: 'Listening to the Kallglot session: live transcripts now start executions.',
		defaults: { name: 'Kallglot Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'kallglotApi', required: true }],
		properties,
	};

	methods = { listSearch: { searchAgents } };

	async trigger(this: ITriggerFunctions): Promise<ITriggerResponse> {
		const node = this.getNode();
		const manual = this.getMode() === 'manual';
		const options = this.getNodeParameter('options', {}) as IDataObject;
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

		const emitAs = this.getNodeParameter('emitAs', 'event') as 'event' | 'session' | 'batch';
		// A test run must neither read nor fill the active workflow's memory of emitted finals.
		const emitted = new EmittedFinals(manual ? {} : (this.getWorkflowStaticData('node') as Record<string, unknown>));
		const listener = new SessionListener({
			source,
			selection: readSelection(this),
			emitAs,
			batch: {
				maxEvents: emitAs === 'batch' ? Math.max(1, Math.round(Number(this.getNodeParameter('batchSize', 20)) || 20)) : 1,
				maxWaitMs: emitAs === 'batch' ? Math.max(1, Number(this.getNodeParameter('batchSeconds', 10)) || 10) * 1000 : 1000,
			},
			flow: {
				concurrency: Math.round(number('parallelExecutions', 1)),
				maxQueued: Math.round(number('maxQueuedItems', 100)),
			},
			emitted,
			emitReconnects: options.emitReconnects === true,
			endCreatedSessionOnClose: options.endSessionOnDeactivate !== false,
			manual,
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
			api: sessionApi(this, createBody),
			emit: (item) => {
				if (manual) return this.emit([[{ json: item as IDataObject }]]);
				// Settles when the execution finished: the next item of the session waits for it.
				const done = this.helpers.createDeferredPromise<IRun>();
				this.emit([[{ json: item as IDataObject }]], undefined, done);
				return done.promise;
			},
			emitError: (error) => this.emitError(kallglotOperationError(node, error.message)),
			log: {
				debug: (message) => this.logger.debug(message),
				info: (message) => this.logger.info(message),
				warn: (message) => this.logger.warn(message),
				error: (message) => this.logger.error(message),
			},
		});

		try {
			await listener.start();
		} catch (error) {
			if (error instanceof ListenerStartError) {
				throw kallglotOperationError(node, error.message, { description: error.description });
			}
			throw asNodeError(node, error);
		}

		let closeCalled = false;
		return {
			closeFunction: async () => {
				// n8n may close more than once (deactivate, then shutdown): the outcome is reported once.
				if (closeCalled) return;
				closeCalled = true;
				try {
					await listener.close();
				} catch (error) {
					// Reported, but deactivation goes on. TriggerCloseError is the error n8n expects from a
					// closeFunction: it logs it at its level and still deactivates the workflow.
					// eslint-disable-next-line @n8n/community-nodes/require-node-api-error -- n8n's own error type for a failed close
					throw new TriggerCloseError(node, { cause: error as Error, level: 'warning' });
				}
			},
		};
	}
}
