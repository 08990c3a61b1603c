/**
 * Runs Session → Translate Audio on n8n-core's real WorkflowExecute with binary input, and keeps
 * hold of the running execution so a test can cancel it as n8n does (PCancelable.cancel()).
 */
import { ExecutionLifecycleHooks, WorkflowExecute } from 'n8n-core';
import type { INode, INodeExecutionData, IRun } from 'n8n-workflow';
import { createDeferredPromise, createRunExecutionData, Workflow } from 'n8n-workflow';

import type { KallglotSandbox } from '../../sandbox';
import { additionalDataFor, PACKAGE, TestNodeTypes } from '../helpers/engine';

export interface AudioRun {
	items?: INodeExecutionData[];
	errorItems?: INodeExecutionData[];
	error?: Error & { description?: string };
	run: IRun;
}

export interface AudioRunOptions {
	parameters?: Record<string, unknown>;
	/** One audio file per input item (or an item without binary data: null). */
	files: Array<Buffer | null>;
	onError?: INode['onError'];
	mimeType?: string;
	/** Default: the test node types (the bench passes its own: tsx resolves the node's module differently). */
	nodeTypes?: TestNodeTypes;
}

export function audioItem(file: Buffer | null, mimeType = 'audio/wav'): INodeExecutionData {
	if (file === null) return { json: {} };
	return { json: {}, binary: { data: { data: file.toString('base64'), mimeType, fileName: 'voicemail' } } };
}

export function startTranslateAudio(sandbox: KallglotSandbox, options: AudioRunOptions): { done: Promise<AudioRun>; cancel(): void } {
	const node: INode = {
		id: 'kallglot-node',
		name: 'Kallglot',
		type: `${PACKAGE}.kallglot`,
		typeVersion: 1,
		position: [0, 0],
		parameters: {
			resource: 'session',
			operation: 'translateAudio',
			binaryPropertyName: 'data',
			mode: 'bidirectional_translation',
			sourceLanguage: 'es',
			targetLanguage: 'en',
			...options.parameters,
			options: { quietPeriodSeconds: 0.5, ...((options.parameters?.options as object) ?? {}) },
		} as INode['parameters'],
		credentials: { kallglotApi: { id: '1', name: 'Kallglot account' } },
		...(options.onError ? { onError: options.onError } : {}),
	};
	const workflowData = { id: 'test', name: 'test', nodes: [node], connections: {}, active: false, settings: {} };
	const workflow = new Workflow({ ...workflowData, nodeTypes: options.nodeTypes ?? new TestNodeTypes() });
	const hooks = new ExecutionLifecycleHooks('manual', '1', workflowData as never);
	const finished = createDeferredPromise<IRun>();
	hooks.addHandler('workflowExecuteAfter', (run) => finished.resolve(run));
	const input = options.files.map((file) => audioItem(file, options.mimeType));
	const runExecutionData = createRunExecutionData({
		executionData: { nodeExecutionStack: [{ node, data: { main: [input] }, source: null }], },
	});
	const additionalData = additionalDataFor({ kallglotApi: { apiKey: sandbox.apiKey, baseUrl: sandbox.baseUrl } }, hooks);
	const execution = new WorkflowExecute(additionalData, 'manual', runExecutionData).processRunExecutionData(workflow);
	const done = (async (): Promise<AudioRun> => {
		const run = await Promise.race([finished.promise, execution.then(() => finished.promise, () => finished.promise)]);
		const task = run.data.resultData.runData[node.name]?.[0];
		return {
			run,
			items: task?.data?.main?.[0] ?? undefined,
			errorItems: options.onError === 'continueErrorOutput' ? (task?.data?.main?.[1] ?? []) : undefined,
			error: (task?.error ?? run.data.resultData.error) as AudioRun['error'],
		};
	})();
	return { done, cancel: () => execution.cancel() };
}

export async function translateAudio(sandbox: KallglotSandbox, options: AudioRunOptions): Promise<AudioRun> {
	return await startTranslateAudio(sandbox, options).done;
}

/** Polls `condition` every 10 ms (a condition, never a time bound; jest's timeout is the limit). */
export async function until<T>(condition: () => T | null | undefined | false): Promise<T> {
	for (;;) {
		const value = condition();
		if (value) return value;
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
}
