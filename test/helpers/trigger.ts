/**
 * Activates the Kallglot Trigger the way n8n does: a real n8n-core TriggerContext around the
 * node's trigger(), with emit/emitError captured, and n8n's logger tapped to read what it logs.
 */
import './engine';

import { Logger } from '@n8n/backend-common';
import { Container } from '@n8n/di';
import { TriggerContext } from 'n8n-core';
import { SSHClientsManager } from 'n8n-core/dist/execution-engine/ssh-clients-manager';
import type {
	ICredentialDataDecryptedObject,
	IDataObject,
	IDeferredPromise,
	INode,
	INodeExecutionData,
	IRun,
	ITriggerResponse,
} from 'n8n-workflow';
import { Workflow } from 'n8n-workflow';

import { KallglotTrigger, startTrigger } from '../../nodes/KallglotTrigger/KallglotTrigger.node';
import type { Clock } from '../../nodes/shared/clock';
import { additionalDataFor, PACKAGE, TestNodeTypes } from './engine';

export const logLines: string[] = [];
const capture = (level: string) => (message: string, meta?: Record<string, unknown>) => {
	logLines.push(`${level}: ${message}${meta ? ` ${JSON.stringify(meta)}` : ''}`);
};
const capturingLogger = {
	debug: capture('debug'),
	info: capture('info'),
	warn: capture('warn'),
	error: capture('error'),
	scoped: () => capturingLogger,
};
// Nodes reach n8n's logger through the DI container; this one records every line.
Container.set(Logger, capturingLogger as unknown as Logger);
// Every TriggerContext gets n8n-core's SSH tunnel manager from the container, which arms a 60 s
// cleanup interval and clears it only on shutdown: shut it down after each file, so the suite
// leaves no open handle behind (jest runs without forceExit).
afterAll(() => Container.get(SSHClientsManager).onShutdown());

export interface ActiveTrigger {
	items: IDataObject[];
	/** How many times emit() was called (one execution each). */
	emits: number;
	/** Each execution's item, in the order emit() was called. */
	executions: IDataObject[];
	/** When each execution was emitted (the trigger's clock), in the same order. */
	emittedAt: number[];
	/** Executions emitted whose donePromise has not been settled yet. */
	running: number;
	/** The most executions running at once. */
	maxRunning: number;
	/** Settles the donePromise of the oldest running executions (autoFinish: false). */
	finish(count?: number): number;
	errors: Error[];
	response: ITriggerResponse;
	/** Deactivates, as n8n does: calls the closeFunction. */
	close(): Promise<void>;
	waitForItems(count: number, timeoutMs?: number): Promise<IDataObject[]>;
	waitForError(timeoutMs?: number): Promise<Error>;
}

export interface TriggerOptions {
	parameters: INode['parameters'];
	credentials: ICredentialDataDecryptedObject;
	mode?: 'trigger' | 'manual';
	/** The workflow's static data (pass the same object again to re-activate, a JSON copy to "restart"). */
	staticData?: IDataObject;
	/** Whether an execution finishes (its donePromise resolves) right after it was emitted; default true. */
	autoFinish?: boolean;
	/** The trigger's clock (a FakeClock); default n8n's way in, trigger() on the system clock. */
	clock?: Clock;
}

async function waitFor<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = check();
		if (value !== undefined) return value;
		if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
}

/** Runs trigger(); rejects when activation fails, exactly as n8n would see it. */
export async function activateTrigger(options: TriggerOptions): Promise<ActiveTrigger> {
	const node: INode = {
		id: 'kallglot-trigger',
		name: 'Kallglot Trigger',
		type: `${PACKAGE}.kallglotTrigger`,
		typeVersion: 1,
		position: [0, 0],
		parameters: options.parameters,
		credentials: { kallglotApi: { id: '1', name: 'Kallglot account' } },
	};
	const trigger = new KallglotTrigger();
	const workflow = new Workflow({
		id: 'trigger-test',
		nodes: [node],
		connections: {},
		active: true,
		nodeTypes: new TestNodeTypes([trigger]),
		staticData: options.staticData,
	});
	const items: IDataObject[] = [];
	const executions: IDataObject[] = [];
	const emittedAt: number[] = [];
	const errors: Error[] = [];
	const running: Array<() => void> = [];
	let emits = 0;
	let maxRunning = 0;
	const autoFinish = options.autoFinish ?? true;
	const emit = (data: INodeExecutionData[][], _response?: unknown, done?: IDeferredPromise<IRun>) => {
		emits++;
		emittedAt.push(options.clock ? options.clock.now() : Date.now());
		for (const item of data[0]) items.push(item.json);
		executions.push(data[0][0]?.json);
		if (!done) return;
		const settle = () => done.resolve({} as IRun);
		if (autoFinish) setImmediate(settle);
		else running.push(settle);
		maxRunning = Math.max(maxRunning, running.length + (autoFinish ? 1 : 0));
	};
	const mode = options.mode ?? 'trigger';
	const context = new TriggerContext(
		workflow,
		workflow.getNode(node.name) as INode,
		additionalDataFor({ kallglotApi: options.credentials }),
		mode,
		mode === 'manual' ? 'manual' : 'activate',
		emit,
		(error: Error) => errors.push(error),
	);
	const response = options.clock ? await startTrigger.call(context, options.clock) : await trigger.trigger.call(context);
	return {
		items,
		get emits() {
			return emits;
		},
		executions,
		emittedAt,
		get running() {
			return running.length;
		},
		get maxRunning() {
			return maxRunning;
		},
		finish: (count = Infinity) => {
			const settled = running.splice(0, Math.min(count, running.length));
			for (const settle of settled) settle();
			return settled.length;
		},
		errors,
		response,
		close: async () => await response.closeFunction?.(),
		waitForItems: async (count, timeoutMs = 10_000) =>
			await waitFor(() => (items.length >= count ? items : undefined), timeoutMs, `${count} items (have ${items.length})`),
		waitForError: async (timeoutMs = 10_000) => await waitFor(() => errors[0], timeoutMs, 'emitError'),
	};
}

export { waitFor };
