import { redactLiterals, redactSecrets, redactUrl } from '../../nodes/shared/redact';
import { streamUrl } from '../../nodes/shared/wire';
import { RecentIdentities } from '../../nodes/shared/stream/dedupe';
import { StreamClientError, describeError, handshakeErrorKind } from '../../nodes/shared/stream/errors';

const TOKEN = 'kst_test_AbCdEf0123456789xyzXYZ';

describe('redactSecrets', () => {
	it('redacts the token query parameter, first or later in the query', () => {
		expect(redactSecrets('wss://h/v1/sessions/sess_1/connect?token=abc123&x=1')).toBe(
			'wss://h/v1/sessions/sess_1/connect?token=***&x=1',
		);
		expect(redactSecrets('GET /connect?x=1&token=secretvalue#frag')).toBe('GET /connect?x=1&token=***#frag');
		expect(redactSecrets('"url":"wss://h/c?token=abc" next')).toBe('"url":"wss://h/c?token=***" next');
		expect(redactSecrets('wss%3A%2F%2Fh%2Fc%3Ftoken%3Dabc123')).toBe('wss%3A%2F%2Fh%2Fc%3Ftoken%3D***');
	});

	it('redacts stream tokens and API keys wherever they appear', () => {
		expect(redactSecrets(`token ${TOKEN} expired`)).toBe('token *** expired');
		expect(redactSecrets('key sk_live_51HabcDEF and sk_test_zzz_9')).toBe('key *** and ***');
		expect(redactSecrets('Authorization: Bearer sk_test_abc')).toBe('Authorization: Bearer ***');
		expect(redactSecrets('Authorization: Bearer opaque.jwt-value')).toBe('Authorization: Bearer ***');
		expect(redactSecrets('{"stream":{"url":"wss://h","token":"opaque-value"}}')).toBe('{"stream":{"url":"wss://h","token":"***"}}');
		expect(redactSecrets(`${TOKEN}${TOKEN}`)).not.toContain('kst_test_A');
	});

	it('leaves ordinary text alone', () => {
		const text = 'connected to sess_01HXYZ (attempt 2), tokens=3, sk_other_x, task_1';
		expect(redactSecrets(text)).toBe(text);
		expect(redactSecrets('')).toBe('');
	});
});

describe('redactUrl', () => {
	it('keeps the URL readable without the token', () => {
		const url = streamUrl('ws://127.0.0.1:4000/v1/sessions/sess_1/connect', TOKEN);
		expect(url).toContain(TOKEN);
		expect(redactUrl(url)).toBe('ws://127.0.0.1:4000/v1/sessions/sess_1/connect?token=***');
		expect(redactUrl(new URL(url))).not.toContain(TOKEN);
	});

	it('hides a userinfo password and survives non-URLs', () => {
		expect(redactUrl('https://user:pa55@host/x?token=1')).toBe('https://user:***@host/x?token=***');
		expect(redactUrl('not a url ?token=zzz')).toBe('not a url ?token=***');
	});
});

describe('redactLiterals', () => {
	it('replaces known secrets that have no recognisable shape, ignoring very short ones', () => {
		expect(redactLiterals('abc opaque-secret-123 def', ['opaque-secret-123', 'abc'])).toBe('abc *** def');
	});
});

describe('StreamClientError', () => {
	it('never carries a secret in its message', () => {
		const e = new StreamClientError('network', `connect ECONNREFUSED wss://h/c?token=${TOKEN}`);
		expect(e.message).not.toContain(TOKEN);
		expect(e.kind).toBe('network');
		expect(e.permanent).toBe(false);
		expect(e).toBeInstanceOf(Error);
		expect(describeError(Object.assign(new Error(`boom ${TOKEN}`), { code: 'ECONNRESET' }))).toBe('boom *** (ECONNRESET)');
	});

	it('maps handshake statuses to kinds', () => {
		expect([401, 404, 410, 403, 500].map(handshakeErrorKind)).toEqual(['unauthorized', 'not_found', 'ended', 'refused', 'refused']);
	});
});

describe('RecentIdentities', () => {
	it('remembers a bounded number of identities, oldest evicted first', () => {
		const set = new RecentIdentities(3);
		expect(['a', 'b', 'c'].map((id) => set.checkAndRemember(id))).toEqual([false, false, false]);
		expect(set.checkAndRemember('a')).toBe(true);
		expect(set.checkAndRemember('d')).toBe(false); // evicts 'a'
		expect(set.size).toBe(3);
		expect(set.has('a')).toBe(false);
		expect(set.checkAndRemember('a')).toBe(false);
		expect(() => new RecentIdentities(0)).toThrow(RangeError);
	});

	it('keeps exactly the last `capacity` identities across many wraps', () => {
		const set = new RecentIdentities(4);
		for (let i = 0; i < 1000; i++) set.checkAndRemember(`id${i}`);
		expect(set.size).toBe(4);
		expect(['id995', 'id996', 'id997', 'id998', 'id999'].map((id) => set.has(id))).toEqual([false, true, true, true, true]);
		expect(set.checkAndRemember('w')).toBe(false); // evicts id996, the oldest
		expect(set.has('id996')).toBe(false);
	});
});
