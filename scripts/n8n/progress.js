'use strict';
/**
 * One progress line for a long npm install: what is installed, how far it got, how long it has
 * taken. npm's own output (thousands of `npm http` lines at --loglevel=http) goes to a log file;
 * this reads it line by line and tells the phases apart:
 *   resolving   packument fetches (`npm http fetch GET 200 https://registry…/<name>`)
 *   downloading tarballs (`npm http fetch … .tgz` or `npm http cache …tgz (cache hit)`), counted
 *               against the package count of a finished install when one is known
 * Plain Node, no dependencies, no clock of its own: callers pass the time.
 */

const TARBALL = /(https?:\/\/\S+\.tgz)\b/;
const FETCH = /^npm http fetch /;
const CACHE = /^npm http cache /;

/** "1m 05s" / "42s". */
function formatDuration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  return minutes === 0 ? `${seconds}s` : `${minutes}m ${String(seconds).padStart(2, '0')}s`;
}

const count = (n) => n.toLocaleString('en-US');
/** Silence after the last new tarball that means the downloads are over. */
const UNPACKING_AFTER_MS = 20_000;

class NpmProgress {
  /**
   * @param {{ what: string, step: string, startedAt: number, expectedPackages?: number, counts?: boolean }} options
   *   `what` names the install ("n8n 2.8.4"), `step` what npm does ("first install"),
   *   `expectedPackages` the package count of a finished install (for a percentage);
   *   `counts: false` for a step that fetches nothing (a rebuild): the line shows step and time.
   */
  constructor({ what, step, startedAt, expectedPackages, counts = true }) {
    this.what = what;
    this.step = step;
    this.startedAt = startedAt;
    this.expectedPackages = expectedPackages;
    this.counts = counts;
    this.manifests = 0;
    this.tarballs = new Set();
  }

  /** 'resolving' | 'downloading' | 'unpacking' | 'running': a change deserves a line off a terminal. */
  phase(now) {
    if (!this.counts) return 'running';
    if (this.tarballs.size === 0) return 'resolving';
    return this.unpacking(now) ? 'unpacking' : 'downloading';
  }

  /** Reads one line of npm's output, received at `now`. */
  read(line, now) {
    const isFetch = FETCH.test(line);
    if (!isFetch && !CACHE.test(line)) return;
    const tarball = TARBALL.exec(line);
    if (tarball !== null && !this.tarballs.has(tarball[1])) {
      this.tarballs.add(tarball[1]);
      this.lastTarballAt = now;
    } else if (tarball === null && isFetch) this.manifests++;
  }

  /** No new tarball for a while: npm is unpacking and linking (it logs nothing meanwhile). */
  unpacking(now) {
    return this.tarballs.size > 0 && now - this.lastTarballAt >= UNPACKING_AFTER_MS;
  }

  /** The line for time `now`: what, how far, how long first (a narrow terminal cuts the end). */
  render(now) {
    const elapsed = formatDuration(now - this.startedAt);
    if (!this.counts) return `${this.what}: ${this.step} · ${elapsed}`;
    if (this.tarballs.size === 0) {
      const manifests = this.manifests === 0 ? '' : ` (${count(this.manifests)} package manifests)`;
      return `${this.what}: resolving dependencies${manifests} · ${elapsed} (${this.step})`;
    }
    const got = this.tarballs.size;
    if (this.unpacking(now)) return `${this.what}: unpacking ${count(got)} packages into node_modules · ${elapsed} (${this.step})`;
    const expected = this.expectedPackages;
    // The known count is of an earlier install: never claim 100 % before npm says it is done.
    const far = expected ? `${count(got)}/~${count(expected)} packages (${Math.min(99, Math.floor((got / expected) * 100))}%)` : `${count(got)} packages`;
    return `${this.what}: downloading ${far} · ${elapsed} (${this.step})`;
  }
}

/**
 * Where the line goes. On a terminal it is rewritten in place (at most once a second); anywhere
 * else (CI, a log file) a line is written only when the phase changes or every `quietMs`.
 */
class ProgressLine {
  /** @param {{ stream: NodeJS.WriteStream, quietMs?: number }} options */
  constructor({ stream, quietMs = 60_000 }) {
    this.stream = stream;
    this.tty = Boolean(stream.isTTY);
    this.quietMs = quietMs;
    this.lastText = '';
    this.lastPhase = '';
    this.lastWrittenAt = -Infinity;
  }

  /** Shows `text`; `phase` is the part of it whose change is worth a line off a terminal. */
  update(text, now, phase = text) {
    if (this.tty) {
      // Never wider than the terminal: a wrapped line cannot be rewritten in place.
      const width = Math.max(20, (this.stream.columns || 80) - 1);
      const shown = text.length > width ? `${text.slice(0, width - 1)}…` : text;
      if (text !== this.lastText) this.stream.write(`\r\x1b[K${shown}`);
    } else if (phase !== this.lastPhase || now - this.lastWrittenAt >= this.quietMs) {
      this.stream.write(`${text}\n`);
      this.lastWrittenAt = now;
    }
    this.lastText = text;
    this.lastPhase = phase;
  }

  /** True while the line shows something not yet finished. */
  get shown() {
    return this.lastText !== '';
  }

  /** The last state of the line, kept on screen, and the cursor on a new line. */
  finish(text) {
    this.stream.write(this.tty ? `\r\x1b[K${text}\n` : `${text}\n`);
    this.lastText = '';
  }
}

module.exports = { NpmProgress, ProgressLine, formatDuration };
