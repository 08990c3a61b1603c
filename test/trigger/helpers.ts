/**
 * Shared setup of the Kallglot Trigger tests: a fresh sandbox for each test, the triggers a test
 * activated closed after it, and sessions created over REST outside the trigger.
 */
import { KallglotSandbox, type SandboxOptions } from '../../sandbox';
import type { ActiveTrigger } from '../helpers/trigger';
import { createSession } from '../stream/helpers';

/**
 * The hooks of a trigger test file: before each test a new sandbox (started with `options`),
 * handed to `onStarted`; after each test every trigger passed to the returned `track` is closed
 * (as n8n deactivates: closing twice is allowed), then the sandbox.
 */
export function sandboxPerTest(onStarted: (sandbox: KallglotSandbox) => void, options?: SandboxOptions): (trigger: ActiveTrigger) => ActiveTrigger {
	let sandbox: KallglotSandbox | undefined;
	const triggers: ActiveTrigger[] = [];
	beforeEach(async () => {
		sandbox = await KallglotSandbox.start(options);
		onStarted(sandbox);
	});
	afterEach(async () => {
		for (const t of triggers.splice(0)) await t.close();
		await sandbox?.close();
		sandbox = undefined;
	});
	return (trigger) => (triggers.push(trigger), trigger);
}

/** A bidirectional translation session created over REST, as a user would outside the trigger; its id. */
export async function createSessionId(sandbox: KallglotSandbox): Promise<string> {
	return (await createSession(sandbox)).id;
}
