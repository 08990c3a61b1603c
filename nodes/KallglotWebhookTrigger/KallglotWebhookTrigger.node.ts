import type {
	ICredentialsDecrypted,
	ICredentialTestFunctions,
	IDataObject,
	IHookFunctions,
	INodeCredentialTestResult,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError, sleep } from 'n8n-workflow';

import {
	answeredStatus,
	DEFAULT_CLAIM_LIFETIMES,
	DEFAULT_SEEN_LIMITS,
	DEFAULT_TOLERANCE_SECONDS,
	isSuccess,
	isTypeSelected,
	matchesSession,
	MAX_BODY_DEPTH,
	nestsDeeperThan,
	NO_SESSION_FACTS,
	parseDelivery,
	SessionCache,
	sessionFacts,
	signingSecretProblem,
	verifySignature,
	webhookItem,
	type HeldClaim,
	type SessionFacts,
	type WebhookSelection,
} from '../shared/webhook';
import { asNodeError } from '../shared/nodeError';
import { CREDENTIAL_NAME as API_CREDENTIAL, type KallglotApi } from '../shared/api';
import { headers as wireHeaders, webhookCarriesSession, webhookSessionId, type WebhookEnvelope } from '../shared/wire';
import { properties } from './description';
import {
	DEFAULT_ENRICHMENT_BUDGET_MS,
	enrichmentError,
	fetchAnalysis,
	fetchTranscript,
	isNotFound,
	lookUpSession,
	MAX_ENRICHMENT_BUDGET_MS,
	recordingFile,
	webhookApi,
	type EnrichmentError,
} from './kallglotCalls';
import { memoryFor, REDIS_CREDENTIAL, TriggerMemories } from './memory';
import { saveWithWorkflow, workflowStaticDataOf } from './staticDataSave';

/** What n8n answers once it has taken an accepted event's execution. */
const ACCEPTED: IDataObject = { received: true };

/** A copy of an event whose first delivery is still being handled is asked to come back. */
const IN_PROGRESS_RETRY_AFTER_SECONDS = 10;

function readSelection(ctx: IWebhookFunctions | IHookFunctions): WebhookSelection {
	const filters = ctx.getNodeParameter('filters', {}) as IDataObject;
	const options = ctx.getNodeParameter('options', {}) as IDataObject;
	const conditions = ((filters.metadata as IDataObject | undefined)?.conditions ?? []) as Array<{ key?: string; value?: string }>;
	return {
		events: new Set(ctx.getNodeParameter('events', []) as string[]),
		passUnknown: options.passUnknown === true,
		metadata: conditions
			.map((c) => ({ key: String(c.key ?? '').trim(), value: String(c.value ?? '') }))
			.filter((c) => c.key !== ''),
		modes: new Set((filters.modes as string[] | undefined) ?? []),
	};
}

const ENRICHMENT_OPTIONS = { fetchTranscript: 'Fetch Full Transcript', fetchAnalysis: 'Fetch Analysis', downloadRecording: 'Download Recording' } as const;

/** What needs the Kallglot API credential when it is missing, in the editor's words; null when nothing does. */
function apiCredentialProblem(ctx: IWebhookFunctions | IHookFunctions): string | null {
	if (ctx.getNode().credentials?.[API_CREDENTIAL]) return null;
	const options = ctx.getNodeParameter('options', {}) as IDataObject;
	const needs = [
		...(readSelection(ctx).metadata.length ? ['the Metadata filter'] : []),
		...Object.entries(ENRICHMENT_OPTIONS)
			.filter(([name]) => options[name] === true)
			.map(([, label]) => label),
	];
	return needs.length
		? `${needs.join(', ')} call${needs.length === 1 ? 's' : ''} the Kallglot API, but no Kallglot API credential is selected`
		: null;
}

const API_CREDENTIAL_FIX = 'Add a Kallglot API credential to this node (Credential for Kallglot API), or remove those settings.';

const headerValue = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/** Mode and metadata: from the event when it is the session, else from a cached lookup (with the API credential). */
async function sessionFactsFor(
	api: KallglotApi,
	cache: SessionCache<IDataObject>,
	envelope: WebhookEnvelope,
	lookUp: boolean,
): Promise<SessionFacts> {
	const sessionId = webhookSessionId(envelope);
	if (webhookCarriesSession(envelope)) {
		if (sessionId && lookUp) cache.set(sessionId, envelope.data as IDataObject);
		return sessionFacts(envelope.data);
	}
	if (!sessionId || !lookUp) return NO_SESSION_FACTS;
	return sessionFacts(await cache.get(sessionId, async () => await lookUpSession(api, sessionId)));
}

/** Adds the enrichment the builder asked for, within the budget; a failure becomes enrichmentError. */
async function enrich(
	ctx: IWebhookFunctions,
	api: KallglotApi,
	envelope: WebhookEnvelope,
	item: INodeExecutionData,
	options: IDataObject,
): Promise<void> {
	const { type, data } = envelope;
	const id = typeof data.id === 'string' ? data.id : '';
	const sessionId = webhookSessionId(envelope);
	const seconds = Number(options.enrichmentBudgetSeconds ?? DEFAULT_ENRICHMENT_BUDGET_MS / 1000);
	const budgetMs = Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds * 1000, MAX_ENRICHMENT_BUDGET_MS) : DEFAULT_ENRICHMENT_BUDGET_MS;
	const budget = AbortSignal.timeout(budgetMs);
	// Whatever a call does with the signal, the budget ends the wait.
	const spent = new Promise<never>((_, reject) => budget.addEventListener('abort', () => reject(budget.reason as Error), { once: true }));
	spent.catch(() => undefined);
	const within = async <T>(work: Promise<T>): Promise<T> => await Promise.race([work, spent]);
	try {
		if (type === 'transcript.ready' && options.fetchTranscript === true && sessionId) {
			item.json.transcript = await within(fetchTranscript(api, sessionId, budget));
		} else if (type === 'analysis.complete' && options.fetchAnalysis === true && id) {
			item.json.analysis = await within(fetchAnalysis(api, id, budget));
		} else if (type === 'recording.ready' && options.downloadRecording === true && id) {
			const property = String(options.binaryPropertyName ?? 'data').trim() || 'data';
			item.binary = { [property]: await within(recordingFile(ctx, api, { ...(data as IDataObject), id }, budget)) };
		}
	} catch (error) {
		// The event is kept; the builder routes on enrichmentError (e.g. with an If node).
		const failure: EnrichmentError = budget.aborted
			? { code: 'enrichment_timeout', message: `Kallglot did not answer within the enrichment time limit (${budgetMs / 1000} s)` }
			: enrichmentError(error);
		item.json.enrichmentError = failure as unknown as IDataObject;
		ctx.logger.warn(`Kallglot webhook: enrichment failed (${failure.code})`, { eventId: envelope.id, event: type });
	}
}

/**
 * Settles a claim once n8n has answered the delivery: a 2xx means n8n took the execution (remember
 * the event), anything else or no answer means it did not (release it, so the redelivery runs).
 */
async function settleWhenAnswered(ctx: IWebhookFunctions, claim: HeldClaim, logged: IDataObject): Promise<void> {
	const status = await answeredStatus(ctx.getResponseObject(), {
		waitMs: DEFAULT_CLAIM_LIFETIMES.pendingMs,
		pollMs: 100,
		sleep: async (ms) => await sleep(ms),
	});
	try {
		if (isSuccess(status)) await claim.handedOver();
		else {
			ctx.logger.warn(`Kallglot webhook: n8n did not take the execution (answer ${status ?? 'none'}); the event is not remembered, Kallglot's retry runs it`, logged);
			await claim.release();
		}
	} catch (error) {
		// The claim expires by itself; a lost hand-over record can at worst let a redelivery run twice.
		ctx.logger.error(`Kallglot webhook: the event memory could not be updated: ${(error as Error).message}`, logged);
	}
}

export class KallglotWebhookTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Kallglot Webhook Trigger',
		name: 'kallglotWebhookTrigger',
		icon: { light: 'file:../../credentials/kallglot.svg', dark: 'file:../../credentials/kallglot.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{ $parameter["events"].join(", ") }}',
		description: 'Starts the workflow on Kallglot’s signed webhook events: every session of your organization',
		eventTriggerDescription: 'Waiting for Kallglot to deliver an event',
		activationMessage: 'Kallglot events sent to the production URL now start executions.',
		defaults: { name: 'Kallglot Webhook Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{ name: 'kallglotWebhookApi', required: true, testedBy: 'checkSigningSecret' },
			{ name: API_CREDENTIAL, required: false },
			{ name: REDIS_CREDENTIAL, required: true, displayOptions: { show: { eventMemory: ['redis'] } } },
		],
		// n8n answers an accepted event once it has taken the execution; refusals are answered here.
		// The answer must be responseData: n8n (2.8 to 2.41) evaluates it with the default text
		// "firstEntryJson" when unset, which then wins over the node's webhookResponse.
		webhooks: [
			{
				name: 'default',
				httpMethod: 'POST',
				responseMode: 'onReceived',
				responseData: `={{ (${JSON.stringify(ACCEPTED)}) }}`,
				path: 'webhook',
			},
		],
		properties,
	};

	// Kallglot has no API to register endpoints (the portal does it): these only check, at
	// activation, that the settings can work, and refuse to publish when they cannot.
	webhookMethods = {
		default: {
			async checkExists(this: IHookFunctions): Promise<boolean> {
				const problem = apiCredentialProblem(this);
				if (problem) throw new NodeOperationError(this.getNode(), `${problem}.`, { description: API_CREDENTIAL_FIX });
				return true;
			},
			async create(this: IHookFunctions): Promise<boolean> {
				return true;
			},
			async delete(this: IHookFunctions): Promise<boolean> {
				return true;
			},
		},
	};

	methods = {
		credentialTest: {
			async checkSigningSecret(
				this: ICredentialTestFunctions,
				credential: ICredentialsDecrypted,
			): Promise<INodeCredentialTestResult> {
				const problem = signingSecretProblem(credential.data?.signingSecret, credential.data?.previousSigningSecret);
				return problem
					? { status: 'Error', message: problem }
					: {
							status: 'OK',
							message: 'The secret looks right. Kallglot’s first signed delivery confirms it.',
						};
			},
		},
	};

	// n8n loads one instance of this class per process and calls webhook() with each request's
	// context as `this`: what deliveries share (event memories, session lookups, Redis connections) is this
	// instance's, reached through the closure.
	readonly webhook = receiveDeliveries(new TriggerMemories());
}

function receiveDeliveries(memories: TriggerMemories): (this: IWebhookFunctions) => Promise<IWebhookResponseData> {
	return async function (this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const receivedAt = new Date();
		const node = this.getNode();
		const request = this.getRequestObject();
		const response = this.getResponseObject();
		const headers = this.getHeaderData();
		const options = this.getNodeParameter('options', {}) as IDataObject;
		// What a log line may say about a delivery: never its body, never a signature.
		const delivery = {
			node: node.name,
			workflowId: this.getWorkflow().id,
			deliveryId: headerValue(headers[wireHeaders.webhook.deliveryId]),
			retryCount: headerValue(headers[wireHeaders.webhook.retryCount]),
		};
		// Answers that start nothing are written here; an accepted event is answered by n8n.
		const answer = (status: number, body: IDataObject): IWebhookResponseData => {
			response.status(status).json(body);
			return { noWebhookResponse: true };
		};
		const refuse = (status: number, code: string, message: string) => answer(status, { error: { code, message } });

		const rawBody = Buffer.isBuffer(request.rawBody) ? request.rawBody : Buffer.alloc(0);
		if (this.getNodeParameter('verifySignatures', true) !== false) {
			const credentials = await this.getCredentials('kallglotWebhookApi');
			const verdict = verifySignature(rawBody, headers[wireHeaders.webhook.signature], {
				secrets: [credentials.signingSecret as string, credentials.previousSigningSecret as string | undefined],
				toleranceSeconds: Number(options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS),
			});
			if (!verdict.ok) {
				this.logger.warn(`Kallglot webhook refused (${verdict.reason}): ${verdict.message}`, delivery);
				return refuse(401, `signature_${verdict.reason}`, verdict.message);
			}
		}

		if (nestsDeeperThan(rawBody, MAX_BODY_DEPTH)) {
			const detail = `body nests deeper than ${MAX_BODY_DEPTH} levels`;
			this.logger.warn(`Kallglot webhook refused: ${detail}`, delivery);
			return refuse(400, 'invalid_envelope', detail);
		}
		const parsed = parseDelivery(rawBody);
		if (!parsed.ok) {
			this.logger.warn(`Kallglot webhook refused: ${parsed.detail}`, delivery);
			return refuse(400, 'invalid_envelope', parsed.detail);
		}
		const envelope = parsed.envelope;
		const logged = { ...delivery, eventId: envelope.id, event: envelope.type };
		const selection = readSelection(this);
		if (!isTypeSelected(envelope.type, selection)) return answer(200, { received: true, skipped: 'event type not selected' });

		const missingApi = apiCredentialProblem(this);
		if (missingApi) {
			// Publishing refuses this; should it slip through, Kallglot keeps the event until it is fixed.
			this.logger.error(`Kallglot webhook: ${missingApi}. ${API_CREDENTIAL_FIX}`, logged);
			return refuse(503, 'api_credential_missing', `${missingApi}; retry later.`);
		}

		const scope = `${delivery.workflowId ?? ''}:${node.name}`;
		const lookUp = Boolean(node.credentials?.[API_CREDENTIAL]);
		const api = webhookApi(this);
		let facts: SessionFacts;
		let lookupError: EnrichmentError | undefined;
		try {
			facts = await sessionFactsFor(api, memories.sessionCache(scope), envelope, lookUp);
		} catch (error) {
			const { code, message } = enrichmentError(error);
			if (!isNotFound(error)) {
				// Not acknowledged, nothing recorded: Kallglot retries and the event is not lost.
				this.logger.error(`Kallglot webhook: session lookup failed (${code}): ${message}`, logged);
				return refuse(503, 'session_lookup_failed', 'The session could not be looked up; retry later.');
			}
			// Kallglot does not know the session: a retry would not change that.
			facts = NO_SESSION_FACTS;
			lookupError = { code, message };
			if (selection.metadata.length) {
				this.logger.warn('Kallglot webhook: session not found, so it cannot match the metadata filter: skipped', logged);
				return answer(200, { received: true, skipped: 'session not found' });
			}
			this.logger.warn(`Kallglot webhook: session not found (${code}); the event runs with metadata: null`, logged);
		}
		if (!matchesSession(facts, selection)) return answer(200, { received: true, skipped: 'filtered out' });

		const remembered = Math.round(Number(options.rememberedEvents ?? DEFAULT_SEEN_LIMITS.maxEntries));
		let claimed;
		try {
			const memory = await memoryFor(this, memories, { workflowId: delivery.workflowId ?? '', nodeKey: node.id ?? node.name }, Number.isFinite(remembered) && remembered > 0 ? remembered : DEFAULT_SEEN_LIMITS.maxEntries);
			claimed = { memory, result: await memory.memory.claim(envelope.id) };
		} catch (error) {
			this.logger.error(`Kallglot webhook: the event memory is unavailable: ${(error as Error).message}`, logged);
			return refuse(503, 'event_memory_unavailable', 'The event memory could not be reached; retry later.');
		}
		const { memory, result } = claimed;
		if (result.verdict === 'handed_over') {
			this.logger.debug('Kallglot webhook: duplicate delivery acknowledged, no execution', logged);
			return answer(200, { received: true, duplicate: true });
		}
		if (result.verdict === 'in_progress') {
			this.logger.debug('Kallglot webhook: another delivery of this event is being handled; asked to retry', logged);
			response.setHeader('retry-after', String(IN_PROGRESS_RETRY_AFTER_SECONDS));
			return refuse(409, 'event_in_progress', 'Another delivery of this event is being handled; retry later.');
		}

		const { claim } = result;
		try {
			const item: INodeExecutionData = { json: webhookItem(envelope, facts, receivedAt) as IDataObject };
			if (lookupError) item.json.lookupError = lookupError as unknown as IDataObject;
			await enrich(this, api, envelope, item, options);
			if (memory.kind === 'workflow') {
				// n8n saves this with the workflow when it answers, i.e. once it has taken the execution.
				saveWithWorkflow(workflowStaticDataOf(this), memory.staticData, memory.memory.stateFor(envelope.id));
			}
			void settleWhenAnswered(this, claim, logged);
			return { workflowData: [[item]], webhookResponse: ACCEPTED };
		} catch (error) {
			await claim.release().catch(() => undefined);
			throw asNodeError(node, error);
		}
	};
}
