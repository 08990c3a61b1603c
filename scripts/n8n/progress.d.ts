export interface NpmProgressOptions {
  /** What is installed, e.g. "n8n 2.8.4". */
  what: string;
  /** What npm does, e.g. "first install (~2.3 GB, cached after)". */
  step: string;
  /** Epoch ms the step started. */
  startedAt: number;
  /** Packages of a finished install: shown as "n/~total (p%)". */
  expectedPackages?: number;
  /** false for a step that fetches nothing (a rebuild). Default true. */
  counts?: boolean;
}
export class NpmProgress {
  constructor(options: NpmProgressOptions);
  read(line: string, now: number): void;
  phase(now: number): 'resolving' | 'downloading' | 'unpacking' | 'running';
  render(now: number): string;
}
export class ProgressLine {
  constructor(options: { stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }; quietMs?: number });
  update(text: string, now: number, phase?: string): void;
  readonly shown: boolean;
  finish(text: string): void;
}
export function formatDuration(ms: number): string;
