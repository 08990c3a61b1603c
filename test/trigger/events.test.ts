import { BILINGUAL_CALL, type KallglotSandbox } from '../../sandbox';
import type { IDataObject } from 'n8n-workflow';

import { activateTrigger, logLines, waitFor, type ActiveTrigger } from '../helpers/trigger';
import { sandboxPerTest } from './helpers';

let sandbox: KallglotSandbox;
const track = sandboxPerTest((started) => (sandbox = started));
const credentials = () => ({ apiKey: sandbox.apiKey, baseUrl: sandbox.baseUrl });
const onlySession = () => [...sandbox.sessions.keys()].at(-1) as string;

async function listen(parameters: Record<string, unknown>) {
	return track(await activateTrigger({ parameters: { sessionSource: 'create', mode: 'bidirectional_translation', ...parameters } as never, credentials: credentials() }));
}

const finals = BILINGUAL_CALL.map((u, index) => ({ ...u, sequence: index + 1 }));

const SENTINEL_SEQUENCE = 900;
/**
 * Sends one more final (`frame`, which must pass the trigger's filters) after everything else and
 * waits for its item; the items before it. Executions run in order, so by then every earlier frame
 * has been emitted or left out: a condition, not a wait of some milliseconds.
 */
async function itemsBeforeSentinel(t: ActiveTrigger, frame: Record<string, unknown>): Promise<IDataObject[]> {
	sandbox.sendFrame(onlySession(), { type: 'transcript.final', text: 'sentinel', sequence: SENTINEL_SEQUENCE, ...frame });
	return await waitFor(
		() => {
			const at = t.items.findIndex((i) => i.sequence === SENTINEL_SEQUENCE);
			return at === -1 ? undefined : t.items.slice(0, at);
		},
		10_000,
		'the sentinel final',
	);
}

describe('Kallglot Trigger items', () => {
	test('default: one execution per final transcript, in order, with translations, then the end', async () => {
		const t = await listen({});
		await sandbox.play(onlySession(), { intervalMs: 5, endWhenDone: true });
		const items = await t.waitForItems(finals.length + 1);
		expect(t.emits).toBe(finals.length + 1);
		expect(items.slice(0, -1)).toEqual(
			finals.map((u) => ({
				event: 'transcript.final',
				sessionId: onlySession(),
				speaker: u.speaker,
				language: u.language,
				text: u.text,
				translation: u.translation,
				isFinal: true,
				sequence: u.sequence,
				receivedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
				timestamp: expect.any(String),
			})),
		);
		expect(items.at(-1)).toMatchObject({
			event: 'session.ended',
			sessionId: onlySession(),
			reason: 'call_completed',
			stream: { malformedFrames: 0, unknownEvents: 0, duplicatesDropped: 0, reconnects: 0 },
		});
	});

	test('a plain-string translation is normalized, its language taken from the session', async () => {
		const t = await listen({ sourceLanguage: 'es', targetLanguage: 'en' });
		await sandbox.play(onlySession(), { intervalMs: 5, translationShape: 'mixed' });
		const items = await t.waitForItems(finals.length);
		expect(items.map((i) => i.translation)).toEqual(finals.map((u) => u.translation));
	});

	test('partials come before their final, marked isFinal false', async () => {
		const t = await listen({ events: ['partials', 'finals'] });
		await sandbox.play(onlySession(), { intervalMs: 5 });
		const items = await itemsBeforeSentinel(t, { speaker: 'agent', language: 'en' });
		const firstFinal = items.findIndex((i) => i.isFinal === true);
		expect(firstFinal).toBeGreaterThan(0);
		expect(items.slice(0, firstFinal).every((i) => i.event === 'transcript.partial' && i.isFinal === false && i.sequence === 1)).toBe(true);
		expect(items.filter((i) => i.isFinal === true)).toHaveLength(finals.length);
	});

	test('Translations only: finals without a translation are left out', async () => {
		const t = await listen({ events: ['translations'] });
		const id = onlySession();
		sandbox.sendFrame(id, { type: 'transcript.final', speaker: 'agent', language: 'en', text: 'untranslated', sequence: 100 });
		sandbox.sendFrame(id, { type: 'transcript.final', speaker: 'agent', language: 'en', text: 'translated', sequence: 101, translation: { language: 'es', text: 'traducido' } });
		const items = await itemsBeforeSentinel(t, { speaker: 'agent', language: 'en', translation: { language: 'es', text: 'centinela' } });
		expect(items.map((i) => i.text)).toEqual(['translated']);
	});

	test('speaker and language filters', async () => {
		const t = await listen({ filters: { speakers: ['customer'] } });
		await sandbox.play(onlySession(), { intervalMs: 5 });
		const customers = await itemsBeforeSentinel(t, { speaker: 'customer', language: 'es' });
		expect(customers.map((i) => i.speaker)).toEqual(['customer', 'customer', 'customer', 'customer']);
		await t.close();

		sandbox.clearRequests();
		const u = await listen({ filters: { languages: 'EN' } });
		await sandbox.play(onlySession(), { intervalMs: 5 });
		const english = await itemsBeforeSentinel(u, { speaker: 'agent', language: 'en' });
		expect(english.map((i) => i.language)).toEqual(['en', 'en', 'en', 'en']);
	});

	test('one item per session: the whole bilingual transcript when it ends, one execution', async () => {
		const t = await listen({ emitAs: 'session' });
		await sandbox.play(onlySession(), { intervalMs: 5, endWhenDone: true });
		const [summary] = await t.waitForItems(1);
		expect(t.emits).toBe(1);
		expect(summary).toMatchObject({
			event: 'session.transcript',
			sessionId: onlySession(),
			reason: 'call_completed',
			turnCount: finals.length,
			languages: expect.arrayContaining(['es', 'en']),
		});
		expect(summary.turns).toEqual(
			finals.map((u) => ({ sequence: u.sequence, speaker: u.speaker, language: u.language, text: u.text, translation: u.translation, timestamp: expect.any(String) })),
		);
	});

	test('ready and session errors on request; unknown events skipped unless passed through', async () => {
		const t = await listen({ events: ['ready', 'errors'] });
		const id = onlySession();
		sandbox.sendFrame(id, { type: 'call.hold', on: true });
		sandbox.sendFrame(id, { type: 'session.error', code: 'invalid_audio_format', message: 'bad audio' });
		const items = await t.waitForItems(2);
		expect(items.map((i) => i.event)).toEqual(['session.ready', 'session.error']);
		expect(items[1]).toMatchObject({ code: 'invalid_audio_format', message: 'bad audio' });
		await t.close();

		const u = await listen({ events: ['finals'], options: { passUnknown: true, includeRaw: true } });
		sandbox.sendFrame(onlySession(), { type: 'call.hold', on: true });
		const [unknown] = await u.waitForItems(1);
		expect(unknown).toMatchObject({ event: 'call.hold', raw: { type: 'call.hold', on: true } });
	});

	test('malformed, oversized and schema-invalid frames are counted and logged once, and the stream goes on', async () => {
		logLines.length = 0;
		const t = await listen({ events: ['finals', 'ended'], options: { maxFrameKb: 1 } });
		const id = onlySession();
		const secretWords = 'caller said their card number';
		sandbox.sendFrame(id, `{"type": "transcript.final", "text": "${secretWords}"`);
		sandbox.sendFrame(id, `{"type": "transcript.final", "text": "${secretWords}"`);
		sandbox.sendFrame(id, JSON.stringify({ type: 'transcript.final', speaker: 'agent', text: 'x'.repeat(2048) }));
		sandbox.sendFrame(id, { type: 'transcript.final', speaker: 42, text: secretWords });
		await sandbox.play(id, { intervalMs: 5, endWhenDone: true });
		const items = await t.waitForItems(finals.length + 1);
		expect(items.at(-1)?.stream).toEqual({ malformedFrames: 4, unknownEvents: 0, duplicatesDropped: 0, reconnects: 0, coalesced: 0, backlogBatches: 0 });
		const warnings = logLines.filter((l) => l.startsWith('warn'));
		expect(warnings.filter((l) => /invalid_json|not valid JSON/i.test(l))).toHaveLength(1);
		expect(logLines.join('\n')).not.toContain(secretWords);
	});
});
