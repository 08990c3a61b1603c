import type { IDataObject, IRun, INodeType, INodeTypeDescription, ITriggerFunctions, ITriggerResponse } from 'n8n-workflow';
import { NodeConnectionTypes, TriggerCloseError } from 'n8n-workflow';

import { searchAgents } from '../shared/agents/searchAgents';
import { systemClock, type Clock } from '../shared/clock';
import { asNodeError, kallglotOperationError } from '../shared/nodeError';
import { EmittedFinals } from '../shared/stream/emitted';
import { properties } from './description';
import { ListenerStartError, SessionListener } from './listener';
import { sessionApi } from './sessionApi';
import { readSettings } from './settings';

export class KallglotTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Kallglot Trigger',
		name: 'kallglotTrigger',
		icon: { light: 'file:../../credentials/kallglot.svg', dark: 'file:../../credentials/kallglot.dark.svg' },
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
		return await startTrigger.call(this, systemClock);
	}
}

/** The trigger's work on `clock` (n8n's: the system clock; tests pass a fake one): read, wire, start. */
export async function startTrigger(this: ITriggerFunctions, clock: Clock): Promise<ITriggerResponse> {
	const node = this.getNode();
	const manual = this.getMode() === 'manual';
	const { createBody, ...settings } = readSettings.call(this);
	const listener = new SessionListener({
		...settings,
		clock,
		manual,
		// A test run must neither read nor fill the active workflow's memory of emitted finals.
		emitted: new EmittedFinals(manual ? {} : (this.getWorkflowStaticData('node') as Record<string, unknown>)),
		api: sessionApi(this, createBody, clock),
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
