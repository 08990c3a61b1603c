/**
 * Saving the static-data event memory with the workflow, across n8n versions. No n8n import beyond types.
 */
import type { IDataObject } from 'n8n-workflow';

import type { SeenEventsState } from '../shared/webhook';
import { SEEN_KEY } from './memory';

/**
 * Writes the seen-events state into the node's static data, for n8n to save once it has taken the
 * execution, and marks it changed again on every turn of the event loop until n8n has answered.
 * n8n 2.41.1 would otherwise drop it: WorkflowRunner.run first builds a second Workflow on the very
 * static-data object this webhook's workflow wraps (dist/workflow-runner.js, run() →
 * establishContextForPersistence; live-webhooks.js hands the workflow row's staticData to both), and
 * n8n-workflow's ObservableObject.create resets its `__dataChanged` to false, so the save in the
 * webhook's response callback (live-webhooks.js, saveStaticData) skips it. Only a workflow's first
 * change escaped (its static data was still null, so nothing was shared). Between that reset and
 * the save n8n waits on its database (prepareNewExecution reloads the static data, then the
 * execution is inserted), and every such wait runs one setImmediate: a mark lands in between.
 * It keeps the event loop busy for the hand-over (n8n's few database calls); on 2.8.4 it is redundant.
 */
export function saveWhenHandedOver(nodeStaticData: IDataObject, state: SeenEventsState, answered: () => boolean): void {
	const mark = () => {
		// Through n8n's observable object: marks the static data changed.
		nodeStaticData[SEEN_KEY] = state as unknown as IDataObject;
	};
	const markUntilAnswered = () => {
		if (answered()) return;
		mark();
		setImmediate(markUntilAnswered);
	};
	mark();
	setImmediate(markUntilAnswered);
}
