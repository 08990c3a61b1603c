/**
 * Runs the Kallglot Webhook Trigger's webhook() the way n8n (2.8.4 and later) does for a production
 * webhook: a real HTTP server hands each request (raw bytes kept, as n8n's body reader does) to
 * n8n-core's WebhookContext; what webhook() returns decides the answer and whether an execution
 * starts. For an onReceived webhook that returned workflowData, n8n first hands the execution over
 * (here: `enqueue`, which a test can delay or fail), then saves the workflow's static data, then
 * answers with the node's webhookResponse; a failed hand-over is answered 500 and saves nothing
 * (webhook-helpers.ts / live-webhooks.ts). "Restarting" builds a new workflow from the saved static
 * data and a fresh copy of the node module, so nothing held in process memory survives.
 */
import { logLines } from './trigger';

import { access } from 'fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'http';
import type { AddressInfo } from 'net';

import { HookContext, WebhookContext } from 'n8n-core';
import type {
	ICredentialDataDecryptedObject,
	IDataObject,
	INode,
	INodeExecutionData,
	INodeType,
	IWebhookData,
} from 'n8n-workflow';
import { Workflow } from 'n8n-workflow';

import { additionalDataFor, PACKAGE, TestNodeTypes } from './engine';

export { logLines };

type NodeClass = new () => INodeType;

function freshNodeClass(): NodeClass {
	let loaded: NodeClass | undefined;
	jest.isolateModules(() => {
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		loaded = require('../../nodes/KallglotWebhookTrigger/KallglotWebhookTrigger.node').KallglotWebhookTrigger;
	});
	return loaded as NodeClass;
}

export interface Answer {
	status: number;
	body: IDataObject;
}

export interface HarnessOptions {
	parameters: INode['parameters'];
	/** kallglotApi left out: the node has no Kallglot API credential. */
	credentials: { kallglotWebhookApi: ICredentialDataDecryptedObject; kallglotApi?: ICredentialDataDecryptedObject; redis?: ICredentialDataDecryptedObject };
	workflowId?: string;
	/** n8n taking the execution (in queue mode: creating and enqueueing it); may wait or throw. */
	enqueue?: (workflowData: INodeExecutionData[][]) => Promise<void>;
	/**
	 * As n8n 2.41.1's WorkflowRunner.run does before the save (establishContextForPersistence): a
	 * second Workflow built on the same static-data object, which resets its "changed" flag, then
	 * a database read.
	 */
	rewrapsStaticData?: boolean;
}

export class WebhookHarness {
	/** One entry per execution n8n would start: the workflowData webhook() returned. */
	readonly executions: INodeExecutionData[][][] = [];
	/** Errors webhook() threw (n8n would answer 500). */
	readonly thrown: Error[] = [];
	/** What n8n did, in order: `enqueued`, `saved` (static data), `answered <status>`. */
	readonly steps: string[] = [];
	private saved: IDataObject = {};
	url = '';
	private server: Server | undefined;
	private readonly inFlight = new Set<Promise<void>>();
	private node!: INode;
	private nodeType!: INodeType;

	private constructor(private readonly options: HarnessOptions) {}

	static async start(options: HarnessOptions): Promise<WebhookHarness> {
		const harness = new WebhookHarness(options);
		harness.load({});
		await harness.listen();
		return harness;
	}

	/** The workflow's static data as n8n saved it (JSON). */
	get savedStaticData(): IDataObject {
		return JSON.parse(JSON.stringify(this.saved)) as IDataObject;
	}

	/** As n8n's WorkflowStaticDataService.saveStaticData: only what is marked changed. */
	private save(workflow: Workflow): void {
		if (workflow.staticData.__dataChanged !== true) return;
		this.saved = JSON.parse(JSON.stringify(workflow.staticData)) as IDataObject;
		this.steps.push('saved');
	}

	/** As n8n does per request: the workflow read anew, with the static data as last saved. */
	private buildWorkflow(staticData: IDataObject = JSON.parse(JSON.stringify(this.saved)) as IDataObject): Workflow {
		return new Workflow({
			id: this.options.workflowId ?? 'webhook-test',
			nodes: [this.node],
			connections: {},
			active: true,
			nodeTypes: new TestNodeTypes([this.nodeType]),
			staticData,
		});
	}

	/** Like an n8n restart: a new process (fresh module state) with the saved static data. */
	restart(): void {
		this.load(this.savedStaticData);
	}

	/** What n8n does when the workflow is published: the webhook methods (checkExists, create). */
	async activate(): Promise<void> {
		const additionalData = additionalDataFor(this.options.credentials as Record<string, ICredentialDataDecryptedObject>);
		const workflow = this.buildWorkflow();
		const context = new HookContext(workflow, workflow.getNode(this.node.name)!, additionalData, 'trigger', 'activate', this.webhookData(additionalData));
		const methods = this.nodeType.webhookMethods!.default!;
		if (!(await methods.checkExists.call(context))) await methods.create.call(context);
	}

	private webhookData(additionalData: IWebhookData['workflowExecuteAdditionalData']): IWebhookData {
		return {
			httpMethod: 'POST',
			node: this.node.name,
			path: `${this.node.webhookId}/webhook`,
			webhookDescription: this.nodeType.description.webhooks![0],
			workflowId: this.options.workflowId ?? 'webhook-test',
			workflowExecuteAdditionalData: additionalData,
		};
	}

	/** The node as the workflow holds it (its parameters and credentials). */
	get workflowNode(): INode {
		return this.node;
	}

	/** Changes node parameters (as editing and re-publishing would), keeping the static data. */
	setParameters(parameters: INode['parameters']): void {
		this.node.parameters = parameters;
	}

	async post(body: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
		const answer = await this.postWithoutWaiting(body, headers);
		// The answer is written before enrichment: wait until webhook() has returned, as n8n does
		// before it starts the execution.
		await this.idle();
		return answer;
	}

	/** Resolves with the HTTP answer as soon as it arrives, webhook() may still be running. */
	async postWithoutWaiting(body: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
		const response = await fetch(this.url, {
			method: 'POST',
			headers: { 'content-type': 'application/json', ...headers },
			body,
		});
		const text = await response.text();
		return { status: response.status, body: text ? (JSON.parse(text) as IDataObject) : {} };
	}

	/** Resolves when no webhook() call is running. */
	async idle(): Promise<void> {
		while (this.inFlight.size) await Promise.all([...this.inFlight]);
	}

	async close(): Promise<void> {
		await this.idle();
		await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
		this.server?.closeAllConnections();
	}

	private load(staticData: IDataObject): void {
		const NodeType = freshNodeClass();
		this.nodeType = new NodeType();
		this.saved = staticData;
		this.node = {
			id: 'webhook-trigger',
			name: 'Kallglot Webhook Trigger',
			type: `${PACKAGE}.kallglotWebhookTrigger`,
			typeVersion: 1,
			position: [0, 0],
			webhookId: 'a8a4bd9c-0a43-4c4e-9d4c-0123456789ab',
			parameters: this.node?.parameters ?? this.options.parameters,
			credentials: {
				kallglotWebhookApi: { id: '2', name: 'Kallglot webhook' },
				...(this.options.credentials.kallglotApi ? { kallglotApi: { id: '1', name: 'Kallglot account' } } : {}),
				...(this.options.credentials.redis ? { redis: { id: '3', name: 'Redis' } } : {}),
			},
		};
	}

	private async listen(): Promise<void> {
		this.server = createServer((req, res) => {
			const handling = this.handle(req, res).finally(() => this.inFlight.delete(handling));
			this.inFlight.add(handling);
		});
		await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
		this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/webhook/${this.node.webhookId}/webhook`;
	}

	private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
		const chunks: Buffer[] = [];
		for await (const chunk of req) chunks.push(chunk as Buffer);
		const rawBody = Buffer.concat(chunks);
		const request = Object.assign(req, { rawBody, body: safeJson(rawBody) });
		const response = Object.assign(res, {
			status(code: number) {
				res.statusCode = code;
				return response;
			},
			json(value: unknown) {
				res.setHeader('content-type', 'application/json');
				res.end(JSON.stringify(value));
				return response;
			},
		});
		const additionalData = additionalDataFor(this.options.credentials as Record<string, ICredentialDataDecryptedObject>);
		Object.assign(additionalData, { httpRequest: request, httpResponse: response });
		const staticData = JSON.parse(JSON.stringify(this.saved)) as IDataObject;
		const workflow = this.buildWorkflow(staticData);
		const context = new WebhookContext(workflow, workflow.getNode(this.node.name)!, additionalData, 'webhook', this.webhookData(additionalData), [], null);
		const reply = (status: number, body: unknown) => {
			this.steps.push(`answered ${status}`);
			response.status(status).json(body);
		};
		let result;
		try {
			result = await this.nodeType.webhook!.call(context);
		} catch (error) {
			this.thrown.push(error as Error);
			if (!res.headersSent) reply(500, { message: 'Error in workflow' });
			else res.end();
			return;
		}
		if (result.noWebhookResponse) {
			if (!res.writableEnded) throw new Error('noWebhookResponse without a response written');
			this.save(workflow);
			return;
		}
		if (!result.workflowData) {
			this.save(workflow);
			reply(200, result.webhookResponse ?? { message: 'Webhook call received' });
			return;
		}
		if (this.options.rewrapsStaticData) {
			this.buildWorkflow(staticData);
			// Then n8n reads its database (the static data again) before it inserts the execution.
			await access(__filename);
		}
		try {
			await this.options.enqueue?.(result.workflowData);
		} catch {
			reply(500, { message: 'Error in workflow' });
			return;
		}
		this.executions.push(result.workflowData);
		this.steps.push('enqueued');
		this.save(workflow);
		// As n8n 2.8.4 / 2.41.1 do (webhook-on-received-response-extractor): the description's
		// responseData, evaluated with the default "firstEntryJson", wins over webhookResponse.
		const responseData = workflow.expression.getComplexParameterValue(
			workflow.getNode(this.node.name)!,
			this.nodeType.description.webhooks![0].responseData as string,
			'webhook',
			{},
			undefined,
			'firstEntryJson',
		);
		const body = responseData === 'noData' ? undefined : responseData || (result.webhookResponse ?? { message: 'Workflow was started' });
		reply(200, body);
	}
}

function safeJson(raw: Buffer): unknown {
	try {
		return JSON.parse(raw.toString('utf8'));
	} catch {
		return {};
	}
}
