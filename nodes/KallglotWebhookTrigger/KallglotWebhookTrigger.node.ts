import type {
	ICredentialsDecrypted,
	ICredentialTestFunctions,
	IDataObject,
	INodeCredentialTestResult,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import {
	DEFAULT_SEEN_LIMITS,
	DEFAULT_TOLERANCE_SECONDS,
	isTypeSelected,
	matchesSession,
	parseDelivery,
	SeenEventsRegistry,
	SessionCache,
	sessionFacts,
	signingSecretProblem,
	verifySignature,
	webhookItem,
	type SessionFacts,
	type WebhookSelection,
	NO_SESSION_FACTS,
} from '../shared/webhook';
import { webhookCarriesSession, webhookHeaders, webhookSessionId, type WebhookEnvelope } from '../shared/wire';
import { properties } from './description';
import {
	recordingFile,
	enrichmentError,
	fetchAnalysis,
	fetchTranscript,
	lookUpSession,
} from './kallglotCalls';

/** Process-wide, per trigger (workflow + node): deliveries are separate calls of webhook(). */
const seenEvents = new SeenEventsRegistry();
const sessionCaches = new Map<string, SessionCache<IDataObject>>();
const SEEN_KEY = 'seenEvents';

function readSelection(ctx: IWebhookFunctions): WebhookSelection {
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

const headerValue = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/** Mode and metadata: from the event when it is the session, else from a cached lookup. */
async function sessionFactsFor(ctx: IWebhookFunctions, scope: string, envelope: WebhookEnvelope): Promise<SessionFacts> {
	let cache = sessionCaches.get(scope);
	if (!cache) {
		cache = new SessionCache<IDataObject>();
		sessionCaches.set(scope, cache);
	}
	const sessionId = webhookSessionId(envelope);
	if (webhookCarriesSession(envelope)) {
		if (sessionId) cache.set(sessionId, envelope.data as IDataObject);
		return sessionFacts(envelope.data);
	}
	if (!sessionId) return NO_SESSION_FACTS;
	return sessionFacts(await cache.get(sessionId, async () => await lookUpSession(ctx, sessionId)));
}

async function enrich(ctx: IWebhookFunctions, envelope: WebhookEnvelope, item: INodeExecutionData, options: IDataObject): Promise<void> {
	const { type, data } = envelope;
	const id = typeof data.id === 'string' ? data.id : '';
	const sessionId = webhookSessionId(envelope);
	try {
		if (type === 'transcript.ready' && options.fetchTranscript === true && sessionId) {
			item.json.transcript = await fetchTranscript(ctx, sessionId);
		} else if (type === 'analysis.complete' && options.fetchAnalysis === true && id) {
			item.json.analysis = await fetchAnalysis(ctx, id);
		} else if (type === 'recording.ready' && options.downloadRecording === true && id) {
			const property = String(options.binaryPropertyName ?? 'data').trim() || 'data';
			item.binary = { [property]: await recordingFile(ctx, { ...(data as IDataObject), id }) };
		}
	} catch (error) {
		// The event is kept; the builder routes on enrichmentError (e.g. with an If node).
		item.json.enrichmentError = enrichmentError(error) as unknown as IDataObject;
		ctx.logger.warn(`Kallglot webhook: enrichment failed (${(item.json.enrichmentError as IDataObject).code})`, {
			eventId: envelope.id,
			event: type,
		});
	}
}

export class KallglotWebhookTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Kallglot Webhook Trigger',
		name: 'kallglotWebhookTrigger',
		icon: { light: 'file:kallglot.svg', dark: 'file:kallglot.dark.svg' },
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
			{ name: 'kallglotApi', required: true },
		],
		webhooks: [{ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', path: 'webhook' }],
		properties,
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

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
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
			deliveryId: headerValue(headers[webhookHeaders.deliveryId]),
			retryCount: headerValue(headers[webhookHeaders.retryCount]),
		};
		const answer = (status: number, body: IDataObject): IWebhookResponseData => {
			response.status(status).json(body);
			return { noWebhookResponse: true };
		};
		const refuse = (status: number, code: string, message: string) => answer(status, { error: { code, message } });

		const rawBody = Buffer.isBuffer(request.rawBody) ? request.rawBody : Buffer.alloc(0);
		if (this.getNodeParameter('verifySignatures', true) !== false) {
			const credentials = await this.getCredentials('kallglotWebhookApi');
			const verdict = verifySignature(rawBody, headers[webhookHeaders.signature], {
				secrets: [credentials.signingSecret as string, credentials.previousSigningSecret as string | undefined],
				toleranceSeconds: Number(options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS),
			});
			if (!verdict.ok) {
				this.logger.warn(`Kallglot webhook refused (${verdict.reason}): ${verdict.message}`, delivery);
				return refuse(401, `signature_${verdict.reason}`, verdict.message);
			}
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

		const scope = `${delivery.workflowId ?? ''}:${node.name}`;
		let facts: SessionFacts;
		try {
			facts = await sessionFactsFor(this, scope, envelope);
		} catch (error) {
			// Not acknowledged, nothing recorded: Kallglot retries and the event is not lost.
			const { code, message } = enrichmentError(error);
			this.logger.error(`Kallglot webhook: session lookup failed (${code}): ${message}`, logged);
			return refuse(503, 'session_lookup_failed', 'The session could not be looked up; retry later.');
		}
		if (!matchesSession(facts, selection)) return answer(200, { received: true, skipped: 'filtered out' });

		const staticData = this.getWorkflowStaticData('node');
		const maxEntries = Math.round(Number(options.rememberedEvents ?? DEFAULT_SEEN_LIMITS.maxEntries));
		const seen = seenEvents.forTrigger(scope, staticData[SEEN_KEY], {
			...DEFAULT_SEEN_LIMITS,
			maxEntries: Number.isFinite(maxEntries) && maxEntries > 0 ? maxEntries : DEFAULT_SEEN_LIMITS.maxEntries,
		});
		if (!seen.claim(envelope.id, Math.floor(receivedAt.getTime() / 1000))) {
			this.logger.debug('Kallglot webhook: duplicate delivery acknowledged, no execution', logged);
			return answer(200, { received: true, duplicate: true });
		}
		// A new object, so n8n notices the change and saves it with the workflow.
		staticData[SEEN_KEY] = seen.toState() as unknown as IDataObject;

		// Acknowledged before any enrichment: Kallglot gives up after 30 s.
		answer(200, { received: true });

		const item: INodeExecutionData = { json: webhookItem(envelope, facts, receivedAt) as IDataObject };
		await enrich(this, envelope, item, options);
		// Again, now: n8n saves this object after webhook() returns, and a delivery that finished
		// meanwhile may have saved a copy without this id. The process-wide store has them all.
		staticData[SEEN_KEY] = seen.toState() as unknown as IDataObject;
		return { noWebhookResponse: true, workflowData: [[item]] };
	}
}
