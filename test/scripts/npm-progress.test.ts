/** The n8n installer's one progress line: npm's log read into phases, counts and a time. */
import { NpmProgress, ProgressLine, formatDuration } from '../../scripts/n8n/progress';

const T0 = 1_000_000;
const manifest = (name: string) => `npm http fetch GET 200 https://registry.npmjs.org/${name} 120ms (cache miss)`;
const tarball = (name: string) => `npm http fetch GET 200 https://registry.npmjs.org/${name}/-/${name}-1.0.0.tgz 80ms (cache miss)`;
const cached = (name: string) => `npm http cache ${name}@https://registry.npmjs.org/${name}/-/${name}-1.0.0.tgz 0ms (cache hit)`;

/** A stream that records what is written to it. */
function sink(tty: boolean, columns = 200) {
	const writes: string[] = [];
	return { writes, stream: { isTTY: tty, columns, write: (text: string) => writes.push(text) > 0 } as unknown as NodeJS.WriteStream };
}

describe('NpmProgress', () => {
	it('resolving: counts package manifests; downloading: counts distinct tarballs against the expected total', () => {
		const progress = new NpmProgress({ what: 'n8n 2.8.4', step: 'first install', startedAt: T0, expectedPackages: 2000 });
		expect(progress.render(T0)).toBe('n8n 2.8.4: resolving dependencies · 0s (first install)');
		for (const name of ['n8n', 'express', 'lodash']) progress.read(manifest(name), T0);
		progress.read('npm warn ERESOLVE overriding peer dependency', T0);
		expect(progress.phase(T0)).toBe('resolving');
		expect(progress.render(T0 + 65_000)).toBe('n8n 2.8.4: resolving dependencies (3 package manifests) · 1m 05s (first install)');

		// A tarball fetched and the same one found in the cache count once.
		progress.read(cached('lodash'), T0 + 190_000);
		progress.read(tarball('lodash'), T0 + 190_000);
		progress.read(tarball('express'), T0 + 190_000);
		expect(progress.phase(T0 + 200_000)).toBe('downloading');
		expect(progress.render(T0 + 200_000)).toBe('n8n 2.8.4: downloading 2/~2,000 packages (0%) · 3m 20s (first install)');
		for (let i = 0; i < 1500; i++) progress.read(tarball(`p${i}`), T0 + 190_000);
		expect(progress.render(T0 + 200_000)).toBe('n8n 2.8.4: downloading 1,502/~2,000 packages (75%) · 3m 20s (first install)');
		// 20 s without a new tarball: npm unpacks (and logs nothing), the line says so.
		expect(progress.render(T0 + 209_999)).toContain('downloading');
		expect(progress.phase(T0 + 210_000)).toBe('unpacking');
		expect(progress.render(T0 + 210_000)).toBe('n8n 2.8.4: unpacking 1,502 packages into node_modules · 3m 30s (first install)');
	});

	it('never shows 100 % from a count of an earlier install, and shows a bare count without one', () => {
		const known = new NpmProgress({ what: 'n8n 2.8.4', step: 'first install', startedAt: T0, expectedPackages: 2 });
		for (const name of ['a', 'b', 'c']) known.read(tarball(name), T0);
		expect(known.render(T0)).toContain('3/~2 packages (99%)');
		const unknown = new NpmProgress({ what: 'n8n 9.9.9', step: 'first install', startedAt: T0 });
		unknown.read(tarball('a'), T0);
		expect(unknown.render(T0 + 1000)).toBe('n8n 9.9.9: downloading 1 packages · 1s (first install)');
	});

	it('a step that fetches nothing shows the step and the time', () => {
		const progress = new NpmProgress({ what: 'n8n 2.41.1 on Node 24', step: 'building sqlite3', startedAt: T0, counts: false });
		progress.read(manifest('ignored'), T0);
		expect(progress.phase(T0)).toBe('running');
		expect(progress.render(T0 + 61_000)).toBe('n8n 2.41.1 on Node 24: building sqlite3 · 1m 01s');
	});

	it.each([
		[0, '0s'],
		[59_999, '59s'],
		[60_000, '1m 00s'],
		[754_000, '12m 34s'],
	])('formats %i ms as %s', (ms, text) => {
		expect(formatDuration(ms)).toBe(text);
	});
});

describe('ProgressLine', () => {
	it('on a terminal: one line rewritten in place, only when it changed, cut to the width, then kept', () => {
		const { writes, stream } = sink(true, 30);
		const line = new ProgressLine({ stream });
		line.update('n8n: resolving · 1s', T0);
		line.update('n8n: resolving · 1s', T0 + 1000);
		line.update('n8n: downloading 10/~2,000 packages (0%) · 2s', T0 + 2000);
		line.finish('n8n installed in 2s');
		expect(writes).toEqual(['\r\x1b[Kn8n: resolving · 1s', '\r\x1b[Kn8n: downloading 10/~2,000 p…', '\r\x1b[Kn8n installed in 2s\n']);
		expect(writes.join('')).not.toMatch(/\n(?!$)/);
	});

	it('elsewhere (CI, a log file): a line per phase change, else at most one per quiet period', () => {
		const { writes, stream } = sink(false);
		const line = new ProgressLine({ stream, quietMs: 60_000 });
		for (let s = 0; s <= 150; s++) line.update(`n8n: resolving · ${s}s`, T0 + s * 1000, 'resolving');
		line.update('n8n: downloading 1 packages · 151s', T0 + 151_000, 'downloading');
		line.update('n8n: downloading 2 packages · 152s', T0 + 152_000, 'downloading');
		line.finish('n8n installed in 153s');
		expect(writes).toEqual([
			'n8n: resolving · 0s\n',
			'n8n: resolving · 60s\n',
			'n8n: resolving · 120s\n',
			'n8n: downloading 1 packages · 151s\n',
			'n8n installed in 153s\n',
		]);
	});
});
