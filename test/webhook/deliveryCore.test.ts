/**
 * The pure parts of a delivery: the nesting limit, the RESP reply parser, the hand-over watch on
 * the response.
 */
import { EventEmitter } from 'events';

import {
	answeredStatus,
	encodeCommand,
	MAX_BODY_DEPTH,
	nestsDeeperThan,
	parseReply,
	RedisReplyError,
} from '../../nodes/shared/webhook';

describe('nesting limit', () => {
	const nested = (depth: number, open = '{"a":', close = '}') => `${open.repeat(depth - 1)}{}${close.repeat(depth - 1)}`;

	test(`${MAX_BODY_DEPTH} levels pass, ${MAX_BODY_DEPTH + 1} do not; arrays count too`, () => {
		expect(nestsDeeperThan(Buffer.from(nested(MAX_BODY_DEPTH)))).toBe(false);
		expect(nestsDeeperThan(Buffer.from(nested(MAX_BODY_DEPTH + 1)))).toBe(true);
		expect(nestsDeeperThan(Buffer.from(`${'['.repeat(65)}${']'.repeat(65)}`))).toBe(true);
	});

	test('brackets inside strings (also after escaped quotes) do not count', () => {
		const inString = JSON.stringify({ text: `"${'{['.repeat(500)}\\` });
		expect(nestsDeeperThan(Buffer.from(inString))).toBe(false);
	});

	test('20,000 levels are counted without recursion', () => {
		expect(nestsDeeperThan(Buffer.from(nested(20_000, '[', ']')))).toBe(true);
	});
});

describe('RESP', () => {
	test('encodes a command as an array of bulk strings (byte lengths)', () => {
		expect(encodeCommand(['SET', 'k', 'é', 5]).toString()).toBe('*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\né\r\n$1\r\n5\r\n');
	});

	test('parses every reply type, nested arrays, and waits for incomplete ones', () => {
		const replies = Buffer.from('+OK\r\n:3\r\n$5\r\nhello\r\n$-1\r\n*2\r\n*1\r\n:1\r\n$1\r\nx\r\n-ERR wrong\r\n*0\r\n');
		const values: unknown[] = [];
		for (let at = 0; at < replies.length; ) {
			const parsed = parseReply(replies, at)!;
			values.push(parsed.value);
			at = parsed.end;
		}
		expect(values.slice(0, 5)).toEqual(['OK', 3, 'hello', null, [[1], 'x']]);
		expect(values[5]).toBeInstanceOf(RedisReplyError);
		expect(values[6]).toEqual([]);
		expect(parseReply(Buffer.from('$5\r\nhel'), 0)).toBeNull();
		expect(parseReply(Buffer.from('*2\r\n:1\r\n'), 0)).toBeNull();
	});
});

class FakeResponse extends EventEmitter {
	writableEnded = false;
	statusCode = 200;
	end(status: number) {
		this.statusCode = status;
		this.writableEnded = true;
		this.emit('finish');
		this.emit('close');
	}
}

describe('hand-over watch', () => {
	const watch = (sleeps: number[]) => ({ waitMs: 300, pollMs: 100, sleep: async (ms: number) => void sleeps.push(ms) });

	test('the status n8n answers with, once it answers', async () => {
		const res = new FakeResponse();
		const status = answeredStatus(res, watch([]));
		res.end(200);
		expect(await status).toBe(200);
		const failed = new FakeResponse();
		const failedStatus = answeredStatus(failed, watch([]));
		failed.end(500);
		expect(await failedStatus).toBe(500);
	});

	test('a caller that hung up first: n8n’s later answer is still seen; none within waitMs is null', async () => {
		const sleeps: number[] = [];
		const res = new FakeResponse();
		const late = answeredStatus(res, { ...watch(sleeps), sleep: async (ms) => {
			sleeps.push(ms);
			if (sleeps.length === 2) res.writableEnded = true;
		} });
		res.emit('close');
		expect(await late).toBe(200);
		expect(sleeps).toEqual([100, 100]);

		const none: number[] = [];
		const silent = new FakeResponse();
		const never = answeredStatus(silent, watch(none));
		silent.emit('close');
		expect(await never).toBeNull();
		expect(none).toEqual([100, 100, 100]);
	});
});
