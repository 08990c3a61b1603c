/**
 * The event memory a delivery uses, from the node's Event Memory setting: the workflow's static
 * data (this process) or Redis through n8n's own Redis credential (every process). Redis
 * connections are kept per credential and process, so a delivery costs one round trip.
 */
import { createHash } from 'node:crypto';

import type { IDataObject, IWebhookFunctions } from 'n8n-workflow';

import {
	DEFAULT_CLAIM_LIFETIMES,
	DEFAULT_SEEN_LIMITS,
	ProcessEventMemories,
	RedisEventMemory,
	RespClient,
	SessionCache,
	type EventMemory,
	type ProcessEventMemory,
	type RedisConnectionOptions,
} from '../shared/webhook';

export const SEEN_KEY = 'seenEvents';
export const REDIS_CREDENTIAL = 'redis';
export type EventMemoryKind = 'workflow' | 'redis';

/** Distinct Redis credentials kept connected at once; past it the least recently used connection is closed. */
const MAX_REDIS_CLIENTS = 8;
/** Triggers whose session lookups are cached at once; past it the least recently used cache goes. */
const MAX_SESSION_CACHES = 1000;

/**
 * What deliveries to one node type share in this process: one event memory and one session
 * lookup cache per trigger, and one Redis connection per credential. Owned by the node type's instance (n8n loads one per process);
 * both are bounded, since triggers and credentials come and go while the process lives.
 */
export class TriggerMemories {
	readonly process = new ProcessEventMemories();
	private readonly redisClients = new Map<string, RespClient>();
	private readonly sessionCaches = new Map<string, SessionCache<IDataObject>>();

	/** The session lookups of one trigger (`scope`: workflow and node). */
	sessionCache(scope: string): SessionCache<IDataObject> {
		const cache = this.sessionCaches.get(scope) ?? new SessionCache<IDataObject>();
		this.sessionCaches.delete(scope);
		this.sessionCaches.set(scope, cache);
		for (const oldest of this.sessionCaches.keys()) {
			if (this.sessionCaches.size <= MAX_SESSION_CACHES) break;
			this.sessionCaches.delete(oldest);
		}
		return cache;
	}

	redisClient(options: RedisConnectionOptions): RespClient {
		// The password is part of the identity (a changed credential gets a new connection), hashed.
		const key = createHash('sha256').update(JSON.stringify(options)).digest('hex');
		let client = this.redisClients.get(key);
		this.redisClients.delete(key);
		if (!client) {
			for (const [oldest, stale] of this.redisClients) {
				if (this.redisClients.size < MAX_REDIS_CLIENTS) break;
				this.redisClients.delete(oldest);
				stale.close();
			}
			client = new RespClient(options);
		}
		this.redisClients.set(key, client);
		return client;
	}
}

export function redisOptions(credential: IDataObject): RedisConnectionOptions {
	const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
	return {
		host: text(credential.host) ?? 'localhost',
		port: Number(credential.port ?? 6379) || 6379,
		database: Number(credential.database ?? 0) || 0,
		user: text(credential.user),
		password: text(credential.password),
		tls: credential.ssl === true ? { rejectUnauthorized: credential.disableTlsVerification !== true } : false,
	};
}

export type DeliveryMemory =
	| { kind: 'workflow'; memory: ProcessEventMemory; staticData: IDataObject }
	| { kind: 'redis'; memory: EventMemory };

export async function memoryFor(
	ctx: IWebhookFunctions,
	memories: TriggerMemories,
	scope: { workflowId: string; nodeKey: string },
	rememberedEvents: number,
): Promise<DeliveryMemory> {
	const kind = ctx.getNodeParameter('eventMemory', 'workflow') as EventMemoryKind;
	if (kind === 'redis') {
		const credential = await ctx.getCredentials(REDIS_CREDENTIAL);
		const client = memories.redisClient(redisOptions(credential));
		const prefix = `n8n-nodes-kallglot:webhook-event:${scope.workflowId}:${scope.nodeKey}:`;
		return { kind, memory: new RedisEventMemory(client, (eventId) => prefix + eventId, DEFAULT_CLAIM_LIFETIMES) };
	}
	const staticData = ctx.getWorkflowStaticData('node');
	const memory = memories.process.forTrigger(`${scope.workflowId}:${scope.nodeKey}`, staticData[SEEN_KEY], {
		...DEFAULT_SEEN_LIMITS,
		maxEntries: rememberedEvents,
	});
	return { kind: 'workflow', memory, staticData };
}
