/**
 * The API client's endpoint table and its one pagination helper (both pure). The table's scopes
 * are checked against the sandbox's reading of Kallglot's scopes, route by route; its
 * Idempotency-Keys and credits against Kallglot's rules (every POST takes a key; creating a session or an analysis costs a credit).
 */
import { ENDPOINTS, type EndpointName, type KallglotApi } from '../../nodes/shared/api';
import { paginate, type Page } from '../../nodes/shared/api/paginate';
import { RETRY } from '../../nodes/shared/api/retry';
import { requiredScope } from '../../sandbox/keys';

const names = Object.keys(ENDPOINTS) as EndpointName[];
const pathOf = (name: EndpointName) => (ENDPOINTS[name].path as (...ids: string[]) => string)('id_1', 'id_2');

describe('the endpoint table', () => {
	test.each(names)('%s declares the scope Kallglot asks for on its route', (name) => {
		const { method, scope } = ENDPOINTS[name];
		expect(scope).toBe(requiredScope(method, `/v1${pathOf(name)}`));
	});

	test('every POST is sent with an Idempotency-Key; no GET is', () => {
		for (const name of names) expect([name, ENDPOINTS[name].idempotent]).toEqual([name, ENDPOINTS[name].method === 'POST']);
	});

	test('what costs an API credit: a session and an analysis', () => {
		expect(names.filter((name) => ENDPOINTS[name].billable).sort()).toEqual(['createAnalysis', 'createSession']);
	});

	test('Dial does not retry a 502 (a failed SIP dial: a retry would ring again); the default does', () => {
		expect(RETRY[ENDPOINTS.dialSession.retry].retryOn?.has(502)).toBe(false);
		expect(RETRY[ENDPOINTS.dialSession.retry].retryOn?.has(503)).toBe(true);
		expect(RETRY[ENDPOINTS.createSession.retry].retryOn).toBeUndefined();
	});

	test('each route is declared by one endpoint', () => {
		const routes = names.map((name) => `${ENDPOINTS[name].method} ${pathOf(name)}`);
		expect(new Set(routes).size).toBe(routes.length);
	});
});

test('the compiler guides a call: a declared endpoint, its path IDs, and the Idempotency-Key where one is sent', () => {
	// Type-checked by ts-jest, never run: each line below must fail to compile.
	const calls = (api: KallglotApi) => [
		// @ts-expect-error -- createSession is sent with an Idempotency-Key: the options must name it
		api.call('createSession', []),
		// @ts-expect-error -- getSession takes the session ID
		api.call('getSession', []),
		// @ts-expect-error -- an endpoint not in ENDPOINTS
		api.call('getWeather', []),
		// @ts-expect-error -- a GET sends no Idempotency-Key
		api.call('getSession', ['sess_1'], { idempotencyKey: 'k' }),
	];
	expect(typeof calls).toBe('function');
});

describe('paginate: Return All / Limit over the cursor', () => {
	/** A list of `total` items served in pages of at most `serverPage`; records each ask. */
	function list(total: number, serverPage: number) {
		const asked: Array<{ cursor?: string; pageSize: number }> = [];
		const items = Array.from({ length: total }, (_, k) => `i${k}`);
		const fetchPage = async (cursor: string | undefined, pageSize: number): Promise<Page<string>> => {
			asked.push({ cursor, pageSize });
			const start = cursor === undefined ? 0 : items.indexOf(cursor) + 1;
			const page = items.slice(start, start + Math.min(serverPage, pageSize));
			const more = start + page.length < total;
			return { items: page, next: more ? page[page.length - 1] : undefined };
		};
		return { fetchPage, asked };
	}

	test('a limit asks each page for no more than is still wanted, and stops at it', async () => {
		const { fetchPage, asked } = list(250, 100);
		const got = await paginate(fetchPage, { limit: 150, maxPageSize: 100, maxPages: Infinity });
		expect(got).toHaveLength(150);
		expect(got[149]).toBe('i149');
		expect(asked).toEqual([{ cursor: undefined, pageSize: 100 }, { cursor: 'i99', pageSize: 50 }]);
	});

	test('Return All follows the cursor to the last page', async () => {
		const { fetchPage, asked } = list(250, 100);
		const got = await paginate(fetchPage, { limit: Infinity, maxPageSize: 100, maxPages: Infinity });
		expect(got).toHaveLength(250);
		expect(asked.map((a) => a.cursor)).toEqual([undefined, 'i99', 'i199']);
	});

	test('pages are bounded: a cursor that never ends is followed maxPages times', async () => {
		const asked: Array<string | undefined> = [];
		const endless = async (cursor: string | undefined): Promise<Page<string>> => {
			asked.push(cursor);
			return { items: ['x'], next: `c${asked.length}` };
		};
		expect(await paginate(endless, { limit: Infinity, maxPageSize: Infinity, maxPages: 50 })).toHaveLength(50);
		expect(asked).toHaveLength(50);
	});

	test('an empty first page is the whole list', async () => {
		const { fetchPage, asked } = list(0, 100);
		expect(await paginate(fetchPage, { limit: 10, maxPageSize: 100, maxPages: Infinity })).toEqual([]);
		expect(asked).toHaveLength(1);
	});
});
