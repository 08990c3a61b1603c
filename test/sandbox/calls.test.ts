/**
 * Which call a session plays, and what its analysis says: a dialled AI-agent session plays an
 * outbound campaign call whose outcome follows the dialled number; every other session the
 * bilingual call.
 */
import { BILINGUAL_CALL, KallglotSandbox, SANDBOX_AGENT_ID, expectedCallFrames } from '../../sandbox';
import { outboundCall, outboundOutcomeFor } from '../../sandbox/script';
import { api, createSession, eventually, StreamClient } from './test-helpers';

let sb: KallglotSandbox;

beforeEach(async () => {
	sb = await KallglotSandbox.start({ recordingProcessingMs: 50, analysisProcessingMs: 50 });
});

afterEach(async () => {
	await sb?.close();
});

const WAIT_MS = 15_000;

/** An AI-agent session for `contact_name` (when given), dialled to `to` (when given). */
async function agentSession(options: { to?: string; name?: string; mode?: string } = {}): Promise<string> {
	const mode = options.mode ?? 'ai_agent';
	const { json: session } = await createSession(sb, {
		mode,
		...(mode === 'ai_agent' ? { ai_agent: { agent_id: SANDBOX_AGENT_ID } } : {}),
		routing: { phone_number: '+14155551234', direction: 'outbound' },
		recording: { enabled: true },
		metadata: { campaign: 'spring-2027', ...(options.name !== undefined ? { contact_name: options.name } : {}) },
	});
	if (options.to !== undefined) expect((await api(sb, 'POST', `/sessions/${session.id}/dial`, { body: { to: options.to } })).status).toBe(200);
	return session.id;
}

async function analysed(sessionId: string): Promise<any> {
	const created = await api(sb, 'POST', `/sessions/${sessionId}/analysis`, { body: {} });
	await eventually(() => sb.postCall.analyses.get(created.json.id)?.status === 'completed', WAIT_MS, 'analysis');
	return (await api(sb, 'GET', `/analyses/${created.json.id}`)).json;
}

const texts = (turns: Array<{ text: string }>): string[] => turns.map((t) => t.text);

describe('the outcome of an outbound call follows the dialled number’s last digit', () => {
	it.each([
		['+33142685300', 'booked'],
		['+14155550103', 'booked'],
		['+14155550146', 'booked'],
		['+4930123459', 'booked'],
		['+34911234561', 'call_back_later'],
		['+14155550144', 'call_back_later'],
		['+34911234567', 'call_back_later'],
		['+14155550142', 'not_interested'],
		['+14155550145', 'not_interested'],
		['+14155550148', 'not_interested'],
	] as const)('%s → %s', (to, outcome) => {
		expect(outboundOutcomeFor(to)).toBe(outcome);
	});
});

describe('outbound AI-agent calls', () => {
	it.each([
		['+33142685300', 'Amélie Durand', 'booked', 'Booked: Amélie', 'positive', 'tuesday'],
		['+34911234567', 'Lucía Fernández', 'call_back_later', 'Call back later: Lucía', 'neutral', 'tomorrow'],
		['+14155550142', 'John Carter', 'not_interested', 'Not interested: John', 'negative', 'remove'],
	] as const)('%s (%s): the agent calls, asks for the contact, and the call ends %s', async (to, name, outcome, summary, sentiment, keyword) => {
		const sessionId = await agentSession({ to, name });
		const first = name.split(' ')[0];
		const client = await StreamClient.forSession((await api(sb, 'GET', `/sessions/${sessionId}`)).json);
		await sb.play(sessionId, { intervalMs: 1, endWhenDone: true });
		await client.closed;

		// The contact answers, the agent introduces itself and asks for the contact by name.
		const script = outboundCall(outcome, first);
		const transcript = (await api(sb, 'GET', `/sessions/${sessionId}/transcript`)).json;
		expect(texts(transcript.turns)).toEqual(texts([...script.utterances]));
		expect(transcript.turns.slice(0, 2).map((t: any) => t.speaker)).toEqual(['customer', 'agent']);
		expect(transcript.turns[1].text).toContain(`Am I speaking with ${first}?`);
		// One language, so no translation, on the stream or in the transcript.
		expect(transcript.metadata.languages_detected).toEqual(['en']);
		for (const turn of transcript.turns) expect(turn).not.toHaveProperty('translation');
		const frames = client.frames.filter((f: any) => f.type === 'transcript.partial' || f.type === 'transcript.final');
		expect(frames.map(({ timestamp: _t, ...frame }: any) => frame)).toEqual(expectedCallFrames('object', 1, script.utterances));

		const analysis = await analysed(sessionId);
		expect(analysis.summary).toMatch(new RegExp(`^${summary}`));
		expect(analysis.sentiment.overall).toBe(sentiment);
		expect(analysis.keywords).toContain(keyword);
		expect(analysis.compliance.checks[0]).toEqual({ id: 'identity_verification', passed: true, detail: 'The agent confirmed whom it was speaking with.' });
	});

	it('three contacts, three different calls: outcome, summary, sentiment and keywords all differ', async () => {
		const contacts = [
			['+34911234567', 'Lucía Fernández'],
			['+14155550142', 'John Carter'],
			['+33142685300', 'Amélie Durand'],
		];
		const sessions = await Promise.all(contacts.map(([to, name]) => agentSession({ to, name })));
		await Promise.all(sessions.map((id) => sb.play(id, { intervalMs: 0, waitForListener: false, endWhenDone: true })));
		const analyses = await Promise.all(sessions.map(analysed));
		for (const part of ['summary', 'sentiment', 'keywords'] as const) {
			expect(new Set(analyses.map((a) => JSON.stringify(a[part]))).size).toBe(3);
		}
	});

	it('without a contact name the agent asks for the account holder', async () => {
		const sessionId = await agentSession({ to: '+33142685300' });
		await sb.play(sessionId, { intervalMs: 0, waitForListener: false, endWhenDone: true });
		const transcript = (await api(sb, 'GET', `/sessions/${sessionId}/transcript`)).json;
		expect(transcript.turns[1].text).toContain('Am I speaking with the account holder?');
		expect((await analysed(sessionId)).summary).toMatch(/^Booked: The contact /);
	});

	it('the same session always plays the same call (a second play continues the sequences)', async () => {
		const sessionId = await agentSession({ to: '+14155550142', name: 'John Carter' });
		await sb.play(sessionId, { intervalMs: 0, waitForListener: false });
		await sb.play(sessionId, { intervalMs: 0, waitForListener: false, endWhenDone: true });
		const turns = (await api(sb, 'GET', `/sessions/${sessionId}/transcript`)).json.turns;
		const once = texts([...outboundCall('not_interested', 'John').utterances]);
		expect(texts(turns)).toEqual([...once, ...once]);
		expect(turns.map((t: any) => t.sequence)).toEqual(turns.map((_: unknown, i: number) => i + 1));
		// Not the call played in full once: the analysis describes the turns, not a scripted outcome.
		expect((await analysed(sessionId)).summary).toMatch(/^A 16-turn call\./);
	});

	it.each([
		['an AI-agent session that was not dialled', { name: 'John Carter' }],
		['a dialled translation session', { to: '+14155550142', mode: 'bidirectional_translation' }],
	])('%s plays the bilingual call', async (_label, options) => {
		const sessionId = await agentSession(options);
		await sb.play(sessionId, { intervalMs: 0, waitForListener: false, endWhenDone: true });
		const transcript = (await api(sb, 'GET', `/sessions/${sessionId}/transcript`)).json;
		expect(texts(transcript.turns)).toEqual(texts([...BILINGUAL_CALL]));
		expect((await analysed(sessionId)).summary).toContain('Lucía Fernández');
	});
});
