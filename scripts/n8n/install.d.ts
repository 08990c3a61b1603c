export interface N8nInstall {
  /** node_modules/n8n/bin/n8n inside the cache folder: run it as `nodeBin n8nBin <command>`. */
  n8nBin: string;
  /** The Node binary this n8n runs on (Node 20 for 2.8.4; Node 24 from the `node` package for 2.41.1). */
  nodeBin: string;
  version: string;
  /** The install folder (${XDG_CACHE_HOME:-~/.cache}/n8n-nodes-kallglot/n8n-<version>[-node<major>]). */
  root: string;
  nodeMajor: number;
}
export interface EnsureN8nOptions {
  /** n8n version, default '2.8.4'. */
  version?: string;
  /** Node major to run it on, when not this process's (e.g. '24' for 2.41.1). */
  node?: string;
}
export function ensureN8n(opts?: EnsureN8nOptions): Promise<N8nInstall>;
export function ensureNode(major: string, line?: import("./progress").ProgressLine): Promise<{ nodeBin: string; headers: string; root: string }>;
export function cacheRoot(): string;
export function n8nEnv(install: N8nInstall, extra?: Record<string, string>): NodeJS.ProcessEnv;
export const KNOWN: Record<string, string | undefined>;
export const DEFAULT_VERSION: string;
export const PACKAGE_COUNTS: Record<string, number>;
