import type { N8nInstall } from './install';

export type N8nMode = 'regular' | 'queue-main' | 'queue-worker' | 'queue-webhook';

export interface StartN8nOptions {
  /** From ensureN8n(); default: the install for E2E_N8N_VERSION (2.8.4). */
  install?: N8nInstall;
  /** N8N_USER_FOLDER; default a fresh folder under $TMPDIR/n8n-nodes-kallglot-e2e/. */
  userFolder?: string;
  mode?: N8nMode;
  /** Extra environment, applied last (wins over the harness defaults). */
  env?: Record<string, string>;
  port?: number;
  brokerPort?: number;
  /** queue-worker only: QUEUE_HEALTH_CHECK_PORT. */
  healthPort?: number;
  /** Label used in the log file name (default: the mode). */
  name?: string;
  /** N8N_LOG_LEVEL, default E2E_N8N_LOG_LEVEL or 'debug'. */
  logLevel?: string;
  /** N8N_ENCRYPTION_KEY; default random per instance (kept across restart()). */
  encryptionKey?: string;
  /** Link the package into <userFolder>/.n8n/nodes/node_modules (default true). */
  linkPackage?: boolean;
  /** Folder linked as n8n-nodes-kallglot (default: E2E_PACKAGE_ROOT or the repository root). */
  packageRoot?: string;
  /** Default 180 000. */
  readyTimeoutMs?: number;
  /** Extra CLI arguments after `start` / `worker`. */
  args?: string[];
  owner?: Partial<Owner>;
}

export interface Owner {
  email: string;
  password: string;
  firstName: string;
  lastName: string;
}

export interface CredentialTestResult {
  status: 'OK' | 'Error';
  message: string;
}

/** Execution as the public API returns it (GET /api/v1/executions/:id?includeData=true). */
export interface N8nExecution {
  id: number | string;
  finished: boolean;
  mode: string;
  status: 'new' | 'running' | 'success' | 'error' | 'crashed' | 'canceled' | 'waiting' | string;
  startedAt: string;
  stoppedAt: string | null;
  workflowId: string;
  data?: {
    resultData: {
      runData: Record<string, Array<{ data?: { main: Array<Array<{ json: Record<string, any> }> | null> }; error?: any; executionStatus?: string }>>;
      error?: any;
      lastNodeExecuted?: string;
    };
  } & Record<string, any>;
  [k: string]: any;
}

export interface WorkflowJson {
  name?: string;
  nodes: Array<{ id?: string; name: string; type: string; typeVersion: number; position: [number, number]; parameters: Record<string, any>; credentials?: Record<string, { id: string; name: string }>; [k: string]: any }>;
  connections?: Record<string, any>;
  settings?: Record<string, any>;
  staticData?: any;
  [k: string]: any;
}

export interface PublicationStatus {
  status: 'in_progress' | 'not_published' | 'published' | 'partial' | 'failed';
  liveVersionId: string | null;
  pendingVersionId: string | null;
  triggers: Array<{ nodeId: string; status: string; errorMessage: string | null }>;
}

export declare class N8nHttpError extends Error {
  status: number;
  body: unknown;
}

export declare class N8nInstance {
  readonly install: N8nInstall;
  readonly version: string;
  readonly mode: N8nMode;
  readonly name: string;
  readonly userFolder: string;
  readonly port: number;
  readonly brokerPort: number;
  readonly healthPort?: number;
  readonly encryptionKey: string;
  /** http://127.0.0.1:<port> */
  readonly baseUrl: string;
  /** pid of the n8n process (leader of its process group); changes on restart. */
  pid: number | undefined;
  /** test-artifacts/n8n-logs/<time>-<version>-<name>.log (stdout+stderr of every start). */
  readonly logFile: string;
  /** `n8n-auth=…` once signed in. */
  cookie?: string;
  /** Raw public-API key once createApiKey() ran. */
  apiKey?: string;
  /** Sent as `browser-id` with every cookie request (n8n binds its session JWT to it). */
  readonly browserId: string;
  owner: Owner;
  /** ms the last start() took until REST answered. */
  lastStartMs?: number;
  readonly running: boolean;
  readonly env: NodeJS.ProcessEnv;

  start(): Promise<this>;
  stop(opts?: { timeoutMs?: number }): Promise<{ code: number | null; signal: string | null } | undefined>;
  restart(): Promise<this>;
  /** stop() and delete the user folder. */
  dispose(): Promise<void>;

  readLog(opts?: { sinceStart?: boolean }): string;
  tail(lines?: number): string;
  logOffset(): number;
  waitForLog(re: RegExp, opts?: { timeoutMs?: number; fromOffset?: number }): Promise<RegExpMatchArray>;

  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** /rest/... with the session cookie; returns the `data` of n8n's answer. */
  rest<T = any>(method: string, path: string, body?: unknown, opts?: { okStatuses?: number[]; raw?: false }): Promise<T>;
  rest(method: string, path: string, body: unknown, opts: { okStatuses?: number[]; raw: true }): Promise<{ status: number; body: any; headers: Headers }>;
  /** /api/v1/... with X-N8N-API-KEY. */
  api<T = any>(method: string, path: string, body?: unknown, opts?: { okStatuses?: number[]; raw?: false }): Promise<T>;
  api(method: string, path: string, body: unknown, opts: { okStatuses?: number[]; raw: true }): Promise<{ status: number; body: any; headers: Headers }>;

  settings(): Promise<any>;
  setupOwner(owner?: Partial<Owner>): Promise<any>;
  login(opts?: { email?: string; password?: string }): Promise<any>;
  /** Owner setup on a fresh instance, login otherwise. */
  ensureOwner(): Promise<any>;
  createApiKey(opts?: { label?: string; scopes?: string[] }): Promise<string>;

  getNodeTypes(): Promise<Array<{ name: string; displayName: string; version: number | number[]; iconUrl?: string | { light: string; dark: string }; credentials?: Array<{ name: string }>; [k: string]: any }>>;
  getCredentialTypes(): Promise<Array<{ name: string; displayName: string; iconUrl?: string | { light: string; dark: string }; properties: any[]; [k: string]: any }>>;

  createCredential(type: string, data: Record<string, unknown>, opts?: { name?: string; via?: 'api' | 'rest' }): Promise<{ id: string; name: string; type: string; [k: string]: any }>;
  getCredential(id: string): Promise<{ id: string; name: string; type: string; data: Record<string, unknown> }>;
  testCredential(idOrCredential: string | { id: string }, opts?: { data?: Record<string, unknown> }): Promise<CredentialTestResult>;

  importWorkflow(json: WorkflowJson | string, opts?: { credentials?: Record<string, { id: string; name: string }>; name?: string }): Promise<{ id: string; active: boolean; [k: string]: any }>;
  getWorkflow(id: string): Promise<any>;
  /** 2.41.1 only (undefined on 2.8.4): GET /rest/workflows/:id/publication-status. */
  publicationStatus(id: string): Promise<PublicationStatus | undefined>;
  waitForPublication(id: string, opts?: { until?: PublicationStatus['status']; timeoutMs?: number }): Promise<PublicationStatus | undefined>;
  /** Publish; waits for the (2.41.1: asynchronous) publication and throws if a trigger failed. */
  activate(id: string, opts?: { wait?: boolean; throwOnFailure?: boolean; timeoutMs?: number }): Promise<{ id: string; active: boolean; publication?: PublicationStatus; [k: string]: any }>;
  deactivate(id: string, opts?: { wait?: boolean; timeoutMs?: number }): Promise<{ id: string; active: boolean; publication?: PublicationStatus; [k: string]: any }>;
  activeWorkflowIds(): Promise<string[]>;
  runWorkflow(id: string, opts?: { triggerNode?: string; wait?: true; timeoutMs?: number }): Promise<N8nExecution>;
  runWorkflow(id: string, opts: { triggerNode?: string; wait: false; timeoutMs?: number }): Promise<{ executionId: string }>;
  cli(args: string[], opts?: { timeoutMs?: number }): Promise<{ code: number; signal: string | null; stdout: string; stderr: string }>;

  getExecution(id: string | number, opts?: { includeData?: boolean }): Promise<N8nExecution>;
  listExecutions(opts?: { workflowId?: string; status?: string; includeData?: boolean; limit?: number }): Promise<N8nExecution[]>;
  waitForExecution(id: string | number, opts?: { timeoutMs?: number }): Promise<N8nExecution>;
  waitForExecutions(workflowId: string, count?: number, opts?: { timeoutMs?: number; status?: string }): Promise<N8nExecution[]>;
}

export interface PgOptions { host: string; port: number; user: string; password?: string }
export interface RedisOptions { host: string; port: number }

export interface QueueCluster {
  install: N8nInstall;
  database: string;
  prefix: string;
  encryptionKey: string;
  pg: PgOptions;
  redis: RedisOptions;
  main: N8nInstance;
  workers: N8nInstance[];
  /** Webhook processes (`n8n webhook`); a load balancer goes in front of them (startRoundRobinProxy). */
  webhooks: N8nInstance[];
  /** Webhook processes, workers, then main; drops the database and the Redis keys under the prefix. */
  stop(): Promise<void>;
}

export interface StartQueueClusterOptions {
  install?: N8nInstall;
  workers?: number;
  env?: Record<string, string>;
  mainEnv?: Record<string, string>;
  workerEnv?: Record<string, string>;
  pg?: Partial<PgOptions>;
  redis?: Partial<RedisOptions>;
  concurrency?: number;
  /** OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS (default true). */
  offloadManualExecutions?: boolean;
  /** Webhook processes to start (default 0). */
  webhooks?: number;
  webhookEnv?: Record<string, string>;
  logLevel?: string;
}

export const REPO_ROOT: string;
/** E2E_PACKAGE_ROOT or REPO_ROOT: the folder linked as n8n-nodes-kallglot. */
export const PACKAGE_ROOT: string;
export const PACKAGE_NAME: string;
export const ARTIFACTS_DIR: string;
export const LOG_DIR: string;
export const DEFAULT_OWNER: Readonly<Owner>;
export function startN8n(opts?: StartN8nOptions): Promise<N8nInstance>;
/** Throws (with `problems`) naming the service it could not reach. */
export function startQueueCluster(opts?: StartQueueClusterOptions): Promise<QueueCluster>;
export interface ProxyRoute {
  /** Index of the target the request went to. */
  target: number;
  method: string;
  path: string;
  deliveryId?: string;
  /** The upstream's status; 502 when it refused or dropped the connection; 0 while in flight. */
  status: number;
  at: number;
}
export interface RoundRobinProxy {
  url: string;
  routes: ProxyRoute[];
  close(): Promise<void>;
}
/** A round-robin load balancer on 127.0.0.1 in front of `targets` (base URLs), 502 for a target that is down. */
export function startRoundRobinProxy(targets: string[]): Promise<RoundRobinProxy>;
export function checkQueueServices(opts?: { pg?: PgOptions; redis?: RedisOptions }): Promise<{ ok: boolean; problems: string[] }>;
export function assertDistBuilt(root?: string): string[];
export function linkPackage(userFolder: string, root?: string): string;
export function freePort(): Promise<number>;
export function e2eInstallOptions(): { version: string; node?: string };
export function redisCommand(redis: RedisOptions, ...args: Array<string | number>): Promise<any>;
export function psql(pg: PgOptions, sql: string, database?: string): Promise<string>;
