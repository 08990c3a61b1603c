/**
 * Runs our nodes on n8n-core's real WorkflowExecute: workflow JSON in, run data out. Only the
 * parts of n8n's server that a single execution needs are provided here: node types, a
 * credentials helper that applies our credential's `authenticate`, and lifecycle hooks.
 */
import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

// n8n-core reads its instance settings (and writes a config file) under this folder on import.
process.env.N8N_USER_FOLDER ??= mkdtempSync(join(tmpdir(), 'kallglot-n8n-'));

import { Container } from '@n8n/di';
import { ExecutionLifecycleHooks, LoadOptionsContext, WorkflowExecute } from 'n8n-core';
import { SSHClientsManager } from 'n8n-core/dist/execution-engine/ssh-clients-manager';
import type {
	ICredentialDataDecryptedObject,
	ICredentialType,
	IExecuteFunctions,
	IHttpRequestOptions,
	INode,
	INodeExecutionData,
	INodeType,
	INodeTypes,
	IRun,
	IVersionedNodeType,
	IWorkflowExecuteAdditionalData,
	WorkflowExecuteMode,
} from 'n8n-workflow';
import { createDeferredPromise, createRunExecutionData, ICredentialsHelper, Workflow } from 'n8n-workflow';

import { KallglotApi } from '../../credentials/KallglotApi.credentials';
import { executeOnClock, Kallglot } from '../../nodes/Kallglot/Kallglot.node';
import type { Clock } from '../../nodes/shared/clock';

export const PACKAGE = 'n8n-nodes-kallglot';

// A node run's context takes n8n-core's SSH tunnel manager from the container, which arms a 60 s
// cleanup interval and clears it only on shutdown: shut it down after each file, so the suite
// leaves no open handle behind (jest runs without forceExit). Outside jest (`npm run bench` loads
// this helper too) there is no afterAll, and the bench exits by itself.
if (typeof afterAll === 'function') afterAll(() => Container.get(SSHClientsManager).onShutdown());

const credentialTypes: Record<string, ICredentialType> = { kallglotApi: new KallglotApi() };

/**
 * The Kallglot node as n8n loads it, with its waits (paced, Retry-After, backoff) on `clock`: a
 * FakeClock lets a test step them exactly (n8n's way in runs them on the system clock).
 */
export function kallglotOnClock(clock: Clock): Kallglot {
	const node = new Kallglot();
	node.execute = async function (this: IExecuteFunctions) {
		return await executeOnClock.call(this, clock);
	};
	return node;
}

export class TestNodeTypes implements INodeTypes {
	private readonly types = new Map<string, INodeType>();

	constructor(nodes: INodeType[] = [new Kallglot()]) {
		for (const node of nodes) this.types.set(`${PACKAGE}.${node.description.name}`, node);
	}

	getByName(type: string): INodeType | IVersionedNodeType {
		return this.getByNameAndVersion(type);
	}

	getByNameAndVersion(type: string): INodeType {
		const node = this.types.get(type);
		if (!node) throw new Error(`Unrecognized node type: ${type}`);
		return node;
	}

	getKnownTypes() {
		return {};
	}
}

/** Resolves credentials from memory and applies the credential type's own `authenticate`. */
export class TestCredentialsHelper extends ICredentialsHelper {
	constructor(private readonly credentials: Record<string, ICredentialDataDecryptedObject>) {
		super();
	}

	getParentTypes() {
		return [];
	}

	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> {
		const authenticate = credentialTypes[typeName]?.authenticate;
		if (typeof authenticate !== 'function') throw new Error(`No authenticate function for ${typeName}`);
		return await authenticate(credentials, requestOptions);
	}

	async preAuthentication() {
		return undefined;
	}

	async runPreAuthentication() {
		return undefined;
	}

	async getDecrypted(_additionalData: IWorkflowExecuteAdditionalData, _node: unknown, type: string) {
		const data = this.credentials[type];
		if (!data) throw new Error(`No test credentials of type ${type}`);
		return { ...data };
	}

	async getCredentials(): Promise<never> {
		throw new Error('not used in tests');
	}

	async updateCredentials() {}

	async updateCredentialsOauthTokenData() {}

	getCredentialsProperties() {
		return [];
	}
}

export function additionalDataFor(
	credentials: Record<string, ICredentialDataDecryptedObject>,
	hooks?: ExecutionLifecycleHooks,
): IWorkflowExecuteAdditionalData {
	return {
		credentialsHelper: new TestCredentialsHelper(credentials),
		hooks,
		executeWorkflow: async () => {
			throw new Error('sub-workflows are not used in tests');
		},
		getRunExecutionData: async () => undefined,
		currentNodeExecutionIndex: 0,
		restApiUrl: 'http://127.0.0.1:5678/rest',
		instanceBaseUrl: 'http://127.0.0.1:5678/',
		formWaitingBaseUrl: 'http://127.0.0.1:5678/form-waiting',
		webhookBaseUrl: 'http://127.0.0.1:5678/webhook',
		webhookWaitingBaseUrl: 'http://127.0.0.1:5678/webhook-waiting',
		webhookTestBaseUrl: 'http://127.0.0.1:5678/webhook-test',
		variables: {},
		logAiEvent: () => {},
		startRunnerTask: async () => {
			throw new Error('task runners are not used in tests');
		},
	} as unknown as IWorkflowExecuteAdditionalData;
}

export interface NodeRun {
	/** Output items of the node (first output), or undefined when it failed. */
	items?: INodeExecutionData[];
	/** Items on n8n's error output (only with onError 'continueErrorOutput'). */
	errorItems?: INodeExecutionData[];
	/** The error the node threw, as n8n recorded it. */
	error?: Error & { description?: string; context?: Record<string, unknown>; httpCode?: string | null };
	run: IRun;
}

export interface RunOptions {
	/** The node's parameters (type, name and credentials are filled in). */
	parameters: INode['parameters'];
	/** Items fed into the node; one empty item by default. */
	input?: INodeExecutionData[];
	credentials: ICredentialDataDecryptedObject;
	continueOnFail?: boolean;
	/** The node's "On Error" setting; `continueOnFail: true` is 'continueRegularOutput'. */
	onError?: INode['onError'];
	mode?: WorkflowExecuteMode;
	/** The node's clock (a FakeClock, see kallglotOnClock); default n8n's way in, the system clock. */
	clock?: Clock;
}

/** The Kallglot (action) node of a test workflow, with the test credential. */
function kallglotNode(parameters: INode['parameters']): INode {
	return {
		id: 'kallglot-node',
		name: 'Kallglot',
		type: `${PACKAGE}.kallglot`,
		typeVersion: 1,
		position: [0, 0],
		parameters,
		credentials: { kallglotApi: { id: '1', name: 'Kallglot account' } },
	};
}

/** Executes one Kallglot node as a workflow through n8n-core's WorkflowExecute. */
export async function runKallglotNode(options: RunOptions): Promise<NodeRun> {
	const node: INode = {
		...kallglotNode(options.parameters),
		...(options.continueOnFail ? { onError: 'continueRegularOutput' as const } : {}),
		...(options.onError ? { onError: options.onError } : {}),
	};
	const workflowData = { id: 'test', name: 'test', nodes: [node], connections: {}, active: false, settings: {} };
	const nodeTypes = new TestNodeTypes(options.clock ? [kallglotOnClock(options.clock)] : undefined);
	const workflow = new Workflow({ ...workflowData, nodeTypes });

	const mode = options.mode ?? 'manual';
	const hooks = new ExecutionLifecycleHooks(mode, '1', workflowData as never);
	const done = createDeferredPromise<IRun>();
	hooks.addHandler('workflowExecuteAfter', (run) => done.resolve(run));

	const runExecutionData = createRunExecutionData({
		executionData: {
			nodeExecutionStack: [{ node, data: { main: [options.input ?? [{ json: {} }]] }, source: null }],
		},
	});

	const additionalData = additionalDataFor({ kallglotApi: options.credentials }, hooks);
	await new WorkflowExecute(additionalData, mode, runExecutionData).processRunExecutionData(workflow);
	const run = await done.promise;
	const task = run.data.resultData.runData[node.name]?.[0];
	return {
		run,
		items: task?.data?.main?.[0] ?? undefined,
		errorItems: options.onError === 'continueErrorOutput' ? (task?.data?.main?.[1] ?? []) : undefined,
		error: (task?.error ?? run.data.resultData.error) as NodeRun['error'],
	};
}

/** A real LoadOptionsContext for the Kallglot node, as the editor uses for list search. */
export function loadOptionsContext(parameters: INode['parameters'], credentials: ICredentialDataDecryptedObject) {
	const node = kallglotNode(parameters);
	const workflow = new Workflow({ id: 'test', nodes: [node], connections: {}, active: false, nodeTypes: new TestNodeTypes() });
	return new LoadOptionsContext(workflow, node, additionalDataFor({ kallglotApi: credentials }), 'parameters.agent');
}
