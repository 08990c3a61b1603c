/**
 * The event memory in Redis, shared by every n8n process of the installation: one atomic
 * set-if-absent per delivery (one round trip), so concurrent copies of an event on any number of
 * processes start one execution. A claim is a key holding a random token for `pendingMs`; handing
 * over rewrites it to `handed_over` for `rememberMs`; releasing deletes it only if it still holds
 * our token (a claim that outlived its expiry may belong to another delivery by then).
 * Plain TypeScript, no n8n.
 */
import { randomBytes } from 'node:crypto';

import { DEFAULT_CLAIM_LIFETIMES, type ClaimLifetimes, type ClaimResult, type EventMemory } from './eventMemory';
import type { RedisCommands } from './resp';

const HANDED_OVER = 'handed_over';

/** SET NX PX, and on a collision what the key holds, in one round trip. */
const CLAIM_SCRIPT = "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 'claimed' end return redis.call('GET', KEYS[1])";
const RELEASE_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

export class RedisEventMemory implements EventMemory {
	constructor(
		private readonly redis: RedisCommands,
		/** The key of an event id; scoped to one trigger (workflow + node). */
		private readonly keyOf: (eventId: string) => string,
		private readonly lifetimes: ClaimLifetimes = DEFAULT_CLAIM_LIFETIMES,
	) {}

	async claim(eventId: string): Promise<ClaimResult> {
		const key = this.keyOf(eventId);
		const token = `pending:${randomBytes(12).toString('hex')}`;
		const answer = await this.redis.send(['EVAL', CLAIM_SCRIPT, 1, key, token, this.lifetimes.pendingMs]);
		if (answer === HANDED_OVER) return { verdict: 'handed_over' };
		// null: the other claim expired between SET and GET; its delivery gave up, ours may retry.
		if (answer !== 'claimed') return { verdict: 'in_progress' };
		return {
			verdict: 'claimed',
			claim: {
				handedOver: async () => {
					await this.redis.send(['SET', key, HANDED_OVER, 'PX', this.lifetimes.rememberMs]);
				},
				release: async () => {
					await this.redis.send(['EVAL', RELEASE_SCRIPT, 1, key, token]);
				},
			},
		};
	}
}
