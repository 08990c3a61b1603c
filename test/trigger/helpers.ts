/**
 * Shared setup of the Kallglot Trigger tests: a fresh sandbox for each test, the triggers a test
 * activated closed after it, sessions created over REST outside the trigger, and a driver that
 * steps a trigger's fake clock timer by timer.
 */
import { KallglotSandbox, type SandboxOptions } from '../../sandbox';
import type { FakeClock } from '../helpers/clock';
import { waitFor, type ActiveTrigger } from '../helpers/trigger';
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

/** The stream client's connect timeout, which the trigger keeps: armed while a call or a handshake is in flight. */
const CONNECT_TIMEOUT_MS = 10_000;

/** One GET of the session as the trigger's clock saw it. */
export interface TimedGet {
	/** Fake ms since the driver started. */
	at: number;
	status: number;
}

/**
 * Drives a trigger on a FakeClock one timer at a time: `step` fires the armed timer, then waits
 * (on a condition, never on wall time) until the trigger has armed its next one. Time moves only
 * in `step`, so a GET of `sessionId` the sandbox saw during a step went out at that step's time:
 * `gets` lists them with their exact fake times.
 */
export async function clockDriver(sandbox: KallglotSandbox, clock: FakeClock, sessionId: string) {
	const start = clock.now();
	const gets: TimedGet[] = [];
	const path = `/v1/sessions/${sessionId}`;
	const collect = () => {
		const all = sandbox.requests.filter((r) => r.method === 'GET' && r.path === path);
		for (const r of all.slice(gets.length)) gets.push({ at: clock.now() - start, status: r.status });
	};
	const armed = async () => await waitFor(() => (clock.pending > 0 ? true : undefined), 10_000, 'the trigger to arm its next timer');
	await armed();
	collect();
	return {
		gets,
		/**
		 * Fires the armed timer; the fake ms it moved the clock. Then waits until the trigger is
		 * parked on a timer armed in this step other than the connect timeout (that one only says a
		 * call or a handshake is in flight), or for `settled` (a step after which the trigger arms
		 * none, e.g. the session ended).
		 */
		async step(settled?: () => boolean): Promise<number> {
			const before = clock.armed;
			const moved = await clock.fireNext();
			await waitFor(
				() => (clock.pendingArmedAfter(before).some((ms) => ms !== CONNECT_TIMEOUT_MS) || settled?.() ? true : undefined),
				10_000,
				'the trigger to arm its next timer',
			);
			collect();
			return moved;
		},
		/** Fake ms since the driver started. */
		elapsed: () => clock.now() - start,
	};
}

/**
 * When the trigger GETs the session, from its announced waits: once at activation, then at each
 * poll (the waits added up) unless the last answer is younger than `reuseMs` (it is reused).
 */
export function expectedGetTimes(waits: number[], reuseMs: number): number[] {
	const times = [0];
	let poll = 0;
	for (const wait of waits) {
		poll += wait;
		if (poll - times[times.length - 1] >= reuseMs) times.push(poll);
	}
	return times;
}

/** The waits the trigger announced ("not live yet; checking again in N ms") in `lines`, in order. */
export const announcedWaits = (lines: string[]): number[] =>
	lines.map((l) => /the session is not live yet; checking again in (\d+) ms/.exec(l)?.[1]).filter((v): v is string => v !== undefined).map(Number);
