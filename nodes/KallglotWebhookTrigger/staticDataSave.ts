/**
 * Saving the static-data event memory with the workflow, on every n8n version we run on.
 */
import type { IDataObject } from 'n8n-workflow';

import type { SeenEventsState } from '../shared/webhook';
import { SEEN_KEY } from './memory';

/**
 * The workflow's whole static data behind a webhook context (n8n's observable object), or
 * undefined. Not part of n8n's node API: n8n-core's contexts keep their Workflow as `workflow`
 * (2.8 to 2.41); the nodes API reaches only the node's and the "global" entries.
 */
export function workflowStaticDataOf(ctx: object): IDataObject | undefined {
	const staticData = (ctx as { workflow?: { staticData?: unknown } }).workflow?.staticData;
	return typeof staticData === 'object' && staticData !== null ? (staticData as IDataObject) : undefined;
}

/**
 * Writes the seen-events state into the node's static data, for n8n to save once it has taken the
 * execution. n8n 2.41.1 would drop it: WorkflowRunner.run first builds a second Workflow on the very
 * static-data object this webhook's workflow wraps (dist/workflow-runner.js, run() →
 * establishContextForPersistence; live-webhooks.js hands the workflow row's staticData to both),
 * and n8n-workflow's ObservableObject.create resets that object's `__dataChanged` to false, so the
 * save in the webhook's response callback (live-webhooks.js, saveStaticData) skips it. Only a
 * workflow's first change escaped (its static data was still null, so nothing was shared).
 * That rewrap reads every top-level entry, so the node's entry becomes a getter that marks the
 * data changed again in a microtask: right after the reset, long before n8n's save. Elsewhere
 * (2.8.4) the getter runs only when n8n serialises the data, where marking it is harmless.
 */
export function saveWithWorkflow(workflowStaticData: IDataObject | undefined, nodeStaticData: IDataObject, state: SeenEventsState): void {
	// Through n8n's observable object: marks the static data changed.
	nodeStaticData[SEEN_KEY] = state as unknown as IDataObject;
	const entry = workflowStaticData && Object.keys(workflowStaticData).find((key) => workflowStaticData[key] === nodeStaticData);
	if (!workflowStaticData || entry === undefined) return;
	let value: unknown = nodeStaticData;
	let marking = false;
	Object.defineProperty(workflowStaticData, entry, {
		enumerable: true,
		configurable: true,
		get: () => {
			if (!marking) {
				marking = true;
				queueMicrotask(() => {
					// Setting an entry of the whole static data marks it changed.
					workflowStaticData[entry] = value as IDataObject;
					marking = false;
				});
			}
			return value;
		},
		set: (next: unknown) => {
			value = next;
		},
	});
}
