/**
 * The Kallglot Webhook Trigger's webhook() through n8n-core's WebhookContext, over real HTTP,
 * with the sandbox as Kallglot for the session lookup and the enrichment calls.
 */
import { createHmac, randomUUID } from 'crypto';

import { KallglotSandbox } from '../../sandbox';
import { waitFor } from '../stream/helpers';
import { logLines, WebhookHarness } from '../helpers/webhook';

const SECRET = 'whsec_engine_test_0123456789';
const PREVIOUS = 'whsec_engine_old_9876543210';
const POST_CALL = ['session.ended', 'transcript.ready', 'recording.ready', 'analysis.complete'];

let sandbox: KallglotSandbox;
let harness: WebhookHarness;

afterEach(async () => {
	await harness?.close();
	await sandbox?.close();
});

async function start(parameters: Record<string, unknown> = {}, secrets = { signingSecret: SECRET, previousSigningSecret: '' }, rewrapsStaticData = false) {
	sandbox = await KallglotSandbox.start({ recordingProcessingMs: 30, analysisProcessingMs: 30 });
	harness = await WebhookHarness.start({
		rewrapsStaticData,
		parameters: { events: POST_CALL, ...parameters } as never,
		credentials: { kallglotWebhookApi: secrets, kallglotApi: { apiKey: sandbox.apiKey, baseUrl: sandbox.baseUrl } },
	});
}

const api = async (path: string, init: RequestInit = {}) => {
	const res = await fetch(`${sandbox.baseUrl}${path}`, {
		...init,
		headers: { authorization: `Bearer ${sandbox.apiKey}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
	});
	return (await res.json()) as Record<string, any>;
};

/** A recorded session with metadata, its call played and ended. */
async function endedCall(metadata: Record<string, string> = { campaign: 'spring-2027', contact_id: 'c-42' }) {
	const session = await api('/sessions', {
		method: 'POST',
		body: JSON.stringify({ mode: 'bidirectional_translation', source_language: 'es', target_language: 'en', metadata, recording: { enabled: true } }),
	});
	await sandbox.play(session.id, { intervalMs: 0, waitForListener: false, endWhenDone: true });
	return (await api(`/sessions/${session.id}`)) as Record<string, any>;
}

const envelope = (type: string, data: unknown, id = `evt_${randomUUID().replace(/-/g, '')}`) =>
	JSON.stringify({ id, object: 'webhook_event', type, api_version: 'v1', created_at: new Date().toISOString(), data });

const signature = (body: string | Buffer, secret = SECRET, t = Math.floor(Date.now() / 1000)) =>
	`t=${t},v1=${createHmac('sha256', secret).update(`${t}.`).update(Buffer.from(body)).digest('hex')}`;

const deliver = (body: string, headers: Record<string, string> = {}) =>
	harness.post(body, { 'kallglot-signature': signature(body), 'kallglot-webhook-id': 'wh_del_test', 'kallglot-retry-count': '0', ...headers });

const items = () => harness.executions.map((e) => e[0][0]);

describe('signatures', () => {
	test('a signed session.ended starts one execution with the documented item', async () => {
		await start();
		const session = await endedCall();
		const body = envelope('session.ended', session, 'evt_ended_1');
		expect(await deliver(body)).toEqual({ status: 200, body: { received: true } });
		expect(harness.executions).toHaveLength(1);
		expect(items()[0].json).toEqual({
			event: 'session.ended',
			eventId: 'evt_ended_1',
			createdAt: expect.any(String),
			sessionId: session.id,
			mode: 'bidirectional_translation',
			metadata: { campaign: 'spring-2027', contact_id: 'c-42' },
			data: session,
			receivedAt: expect.any(String),
		});
	});

	test('missing, malformed, wrong-secret, stale and tampered deliveries get 401 with a reason, start nothing, log no body', async () => {
		await start();
		const session = await endedCall();
		const marker = `secret-contact-${randomUUID()}`;
		const body = envelope('session.ended', { ...session, metadata: { note: marker } });
		const old = Math.floor(Date.now() / 1000) - 301;
		const tampered = body.replace(marker, `${marker}x`);
		const cases: Array<[string, Record<string, string>, string, string?]> = [
			['missing', { 'kallglot-signature': '' }, 'signature_missing'],
			['malformed', { 'kallglot-signature': 'v1=abc' }, 'signature_malformed'],
			['wrong secret', { 'kallglot-signature': signature(body, 'whsec_not_the_secret_000') }, 'signature_mismatch'],
			['stale', { 'kallglot-signature': signature(body, SECRET, old) }, 'signature_stale'],
			['tampered', { 'kallglot-signature': signature(body) }, 'signature_mismatch', tampered],
		];
		logLines.length = 0;
		for (const [, headers, code, sent] of cases) {
			const answer = await deliver(sent ?? body, headers);
			expect(answer.status).toBe(401);
			expect(answer.body).toEqual({ error: { code, message: expect.any(String) } });
		}
		expect(harness.executions).toHaveLength(0);
		const refusals = logLines.filter((l) => l.includes('Kallglot webhook refused'));
		expect(refusals).toHaveLength(cases.length);
		expect(refusals.join('\n')).not.toContain(marker);
		expect(refusals.join('\n')).not.toContain(SECRET);
		expect(refusals[0]).toContain('wh_del_test');
		// A refused delivery is not remembered: the genuine one still gets in.
		expect((await deliver(body)).status).toBe(200);
		expect(harness.executions).toHaveLength(1);
	});

	test('the previous secret is accepted while rotating; a tolerance option moves the replay window', async () => {
		await start({ options: { toleranceSeconds: 3600 } }, { signingSecret: SECRET, previousSigningSecret: PREVIOUS });
		const session = await endedCall();
		const body = envelope('session.ended', session);
		expect((await deliver(body, { 'kallglot-signature': signature(body, PREVIOUS) })).status).toBe(200);
		const body2 = envelope('session.ended', session);
		const anHourAgo = Math.floor(Date.now() / 1000) - 3500;
		expect((await deliver(body2, { 'kallglot-signature': signature(body2, SECRET, anHourAgo) })).status).toBe(200);
		expect(harness.executions).toHaveLength(2);
	});

	test('with Verify Signatures off, unsigned deliveries are accepted', async () => {
		await start({ verifySignatures: false });
		const session = await endedCall();
		expect((await harness.post(envelope('session.ended', session))).status).toBe(200);
		expect(harness.executions).toHaveLength(1);
	});

	test('a signed body that is not an envelope gets 400 and starts nothing', async () => {
		await start();
		const body = '{"hello":"world"}';
		const answer = await deliver(body);
		expect(answer).toEqual({ status: 400, body: { error: { code: 'invalid_envelope', message: expect.stringContaining('id') } } });
		expect(harness.executions).toHaveLength(0);
	});
});

describe('at-least-once delivery', () => {
	test('the same event id delivered again (a retry) starts no second execution; a new id does', async () => {
		await start();
		const session = await endedCall();
		const body = envelope('session.ended', session, 'evt_dup');
		expect(await deliver(body)).toEqual({ status: 200, body: { received: true } });
		expect(await deliver(body, { 'kallglot-retry-count': '1' })).toEqual({ status: 200, body: { received: true, duplicate: true } });
		// A retry is signed again at a later time: same event id, other bytes in the header.
		expect((await deliver(body, { 'kallglot-signature': signature(body, SECRET, Math.floor(Date.now() / 1000) + 5) })).body).toMatchObject({ duplicate: true });
		expect(harness.executions).toHaveLength(1);
		expect((await deliver(envelope('session.ended', session, 'evt_other'))).body).toEqual({ received: true });
		expect(harness.executions).toHaveLength(2);
	});

	test('concurrent duplicates (before any static data was saved) start one execution; copies in flight are asked to retry', async () => {
		await start();
		const session = await endedCall();
		const body = envelope('session.ended', session, 'evt_burst');
		const answers = await Promise.all(Array.from({ length: 8 }, () => deliver(body)));
		expect(answers.filter((a) => a.status === 200 && a.body.duplicate === undefined)).toEqual([{ status: 200, body: { received: true } }]);
		for (const copy of answers.filter((a) => !(a.status === 200 && a.body.duplicate === undefined))) {
			expect([copy.status, copy.body.duplicate ?? (copy.body.error as { code: string }).code]).toEqual(
				copy.status === 200 ? [200, true] : [409, 'event_in_progress'],
			);
		}
		expect(harness.executions).toHaveLength(1);
	});

	test('seen ids are kept in the node’s static data, so a retry after a restart starts nothing', async () => {
		await start();
		const session = await endedCall();
		const body = envelope('session.ended', session, 'evt_restart');
		await deliver(body);
		expect(harness.savedStaticData).toEqual({
			'node:Kallglot Webhook Trigger': { seenEvents: { v: 1, ids: { evt_restart: expect.any(Number) } } },
		});
		harness.restart();
		expect((await deliver(body)).body).toMatchObject({ duplicate: true });
		expect(harness.executions).toHaveLength(1);
		// Control: after a restart without the saved data, the id would get through.
		expect((await deliver(envelope('session.ended', session, 'evt_new_after_restart'))).body).toEqual({ received: true });
	});

	test('as on n8n 2.41.1, whose runner resets the static data’s changed flag before its save, every id is saved and a retry after a restart starts nothing', async () => {
		await start(undefined, undefined, true);
		const session = await endedCall();
		const bodies = ['evt_a', 'evt_b', 'evt_c'].map((id) => envelope('session.ended', session, id));
		for (const body of bodies) expect((await deliver(body)).body).toEqual({ received: true });
		expect(harness.savedStaticData).toEqual({
			'node:Kallglot Webhook Trigger': { seenEvents: { v: 1, ids: { evt_a: expect.any(Number), evt_b: expect.any(Number), evt_c: expect.any(Number) } } },
		});
		harness.restart();
		for (const body of bodies) expect((await deliver(body)).body).toEqual({ received: true, duplicate: true });
		expect(harness.executions).toHaveLength(3);
	});

	test('the memory is bounded by Remembered Event IDs (oldest forgotten)', async () => {
		await start({ options: { rememberedEvents: 100 } });
		const session = await endedCall();
		for (let i = 0; i < 105; i++) await deliver(envelope('session.ended', session, `evt_${i}`));
		const saved = harness.savedStaticData['node:Kallglot Webhook Trigger'] as { seenEvents: { ids: Record<string, number> } };
		expect(Object.keys(saved.seenEvents.ids)).toHaveLength(100);
		expect(saved.seenEvents.ids.evt_0).toBeUndefined();
		expect(saved.seenEvents.ids.evt_104).toBeDefined();
	});
});

describe('events and filters', () => {
	test('an event type not selected is acknowledged and starts nothing; unknown types only on request', async () => {
		await start();
		const session = await endedCall();
		expect((await deliver(envelope('session.created', session))).body).toEqual({ received: true, skipped: 'event type not selected' });
		expect((await deliver(envelope('call.transferred', { session_id: session.id }))).body).toMatchObject({ skipped: expect.any(String) });
		expect(harness.executions).toHaveLength(0);
		// A skipped event was not remembered: selected later, the same delivery runs.
		const created = envelope('session.created', session);
		await deliver(created);
		harness.setParameters({ events: [...POST_CALL, 'session.created'] });
		expect((await deliver(created)).body).toEqual({ received: true });
		expect(harness.executions).toHaveLength(1);
		harness.executions.length = 0;
		harness.setParameters({ events: POST_CALL, options: { passUnknown: true } });
		expect((await deliver(envelope('call.transferred', { session_id: session.id, extra: 1 }))).body).toEqual({ received: true });
		expect(items()[0].json).toMatchObject({ event: 'call.transferred', sessionId: session.id, data: { extra: 1 }, metadata: { campaign: 'spring-2027' } });
	});

	test('metadata filters: a recording.ready of the campaign’s session runs (metadata looked up once), another campaign’s is skipped', async () => {
		await start({ filters: { metadata: { conditions: [{ key: 'campaign', value: 'spring-2027' }] } } });
		const ours = await endedCall();
		const theirs = await endedCall({ campaign: 'autumn-2027' });
		await waitFor('recordings ready', () => sandbox.postCall.recordingsOf(ours.id).every((r) => r.status === 'ready'), 20_000);
		const [recording] = (await api(`/sessions/${ours.id}/recordings`)).data;
		sandbox.clearRequests();
		expect((await deliver(envelope('recording.ready', recording))).body).toEqual({ received: true });
		expect((await deliver(envelope('recording.ready', recording))).body).toEqual({ received: true });
		expect(sandbox.requests.filter((r) => r.path.endsWith(`/sessions/${ours.id}`))).toHaveLength(1);
		expect(items()[0].json).toMatchObject({ event: 'recording.ready', sessionId: ours.id, metadata: { campaign: 'spring-2027', contact_id: 'c-42' } });
		expect((await deliver(envelope('session.ended', theirs))).body).toEqual({ received: true, skipped: 'filtered out' });
		expect(harness.executions).toHaveLength(2);
	});

	test('a mode filter skips sessions of other modes', async () => {
		await start({ filters: { modes: ['ai_agent'] } });
		const session = await endedCall();
		expect((await deliver(envelope('session.ended', session))).body).toEqual({ received: true, skipped: 'filtered out' });
		expect(harness.executions).toHaveLength(0);
	});

	test('when the session lookup fails the delivery gets 503 and is not remembered, so Kallglot’s retry gets in', async () => {
		await start();
		const session = await endedCall();
		const body = envelope('transcript.ready', { object: 'transcript', id: 'trn_1', session_id: session.id, status: 'completed', total_turns: 4 }, 'evt_lookup');
		sandbox.injectFault({ method: 'GET', path: `/v1/sessions/${session.id}`, status: 500, times: 10 });
		const refused = await deliver(body);
		expect(refused).toEqual({ status: 503, body: { error: { code: 'session_lookup_failed', message: expect.any(String) } } });
		expect(harness.executions).toHaveLength(0);
		sandbox.clearFaults();
		expect((await deliver(body, { 'kallglot-retry-count': '1' })).body).toEqual({ received: true });
		expect(harness.executions).toHaveLength(1);
	});

	test('a transcript.segment item has the live trigger’s transcript.final keys', async () => {
		await start({ events: ['transcript.segment'] });
		const session = await endedCall();
		const segment = {
			object: 'transcript_segment',
			session_id: session.id,
			sequence: 1,
			speaker: 'customer',
			language: 'es',
			text: 'Hola',
			translation: { language: 'en', text: 'Hello' },
			timestamp: new Date().toISOString(),
		};
		await deliver(envelope('transcript.segment', segment));
		expect(Object.keys(items()[0].json).sort()).toEqual(
			['event', 'sessionId', 'speaker', 'language', 'text', 'translation', 'isFinal', 'sequence', 'receivedAt', 'timestamp', 'eventId', 'createdAt', 'mode', 'metadata', 'data'].sort(),
		);
		expect(items()[0].json).toMatchObject({ event: 'transcript.segment', text: 'Hola', translation: { language: 'en', text: 'Hello' }, isFinal: true, sequence: 1 });
	});
});

describe('enrichment', () => {
	const options = { fetchTranscript: true, downloadRecording: true, fetchAnalysis: true };

	test('transcript.ready carries the full transcript', async () => {
		await start({ options });
		const session = await endedCall();
		await deliver(envelope('transcript.ready', { object: 'transcript', id: 'trn_1', session_id: session.id, status: 'completed', total_turns: 4 }));
		const transcript = items()[0].json.transcript as { turns: unknown[]; session_id: string };
		expect(transcript.session_id).toBe(session.id);
		expect(transcript.turns.length).toBeGreaterThan(0);
	});

	test('recording.ready carries the audio as binary data: the served bytes, file name and MIME type', async () => {
		await start({ options: { ...options, binaryPropertyName: 'audio' } });
		const session = await endedCall();
		await waitFor('recordings ready', () => sandbox.postCall.recordingsOf(session.id).every((r) => r.status === 'ready'), 20_000);
		const [recording] = (await api(`/sessions/${session.id}/recordings`)).data;
		await deliver(envelope('recording.ready', recording));
		const served = await fetch(`${sandbox.baseUrl}/recordings/${recording.id}/audio`, { headers: { authorization: `Bearer ${sandbox.apiKey}` } });
		const bytes = Buffer.from(await served.arrayBuffer());
		const binary = items()[0].binary?.audio;
		expect(binary).toMatchObject({ mimeType: 'audio/wav', fileName: `recording-${session.id}-${recording.channel}.wav` });
		expect(Buffer.from(binary!.data, 'base64').equals(bytes)).toBe(true);
		expect(bytes.subarray(0, 4).toString()).toBe('RIFF');
		expect(items()[0].json.enrichmentError).toBeUndefined();
	});

	test('analysis.complete carries the analysis object', async () => {
		await start({ options });
		const session = await endedCall();
		const created = await api(`/sessions/${session.id}/analysis`, { method: 'POST', body: '{}', headers: { 'Idempotency-Key': randomUUID() } });
		let analysis = created;
		for (const deadline = Date.now() + 20_000; analysis.status !== 'completed' && Date.now() < deadline; ) {
			await new Promise((resolve) => setTimeout(resolve, 25));
			analysis = await api(`/analyses/${created.id}`);
		}
		await deliver(envelope('analysis.complete', analysis));
		expect(items()[0].json.analysis).toMatchObject({ id: created.id, status: 'completed', summary: expect.anything() });
	});

	test('the answer waits for enrichment, at most its time limit: a held download runs with enrichmentError enrichment_timeout', async () => {
		await start({ options: { ...options, enrichmentBudgetSeconds: 1 } });
		const session = await endedCall();
		await waitFor('recordings ready', () => sandbox.postCall.recordingsOf(session.id).every((r) => r.status === 'ready'), 20_000);
		const [recording] = (await api(`/sessions/${session.id}/recordings`)).data;
		sandbox.injectFault({ method: 'GET', path: `/v1/recordings/${recording.id}/audio`, delayMs: 60_000, times: 1 });
		const answer = await deliver(envelope('recording.ready', recording));
		// Answered (the sandbox still holds the download), after the execution was handed over.
		expect(answer).toEqual({ status: 200, body: { received: true } });
		expect(harness.executions).toHaveLength(1);
		expect(items()[0].json.enrichmentError).toEqual({ code: 'enrichment_timeout', message: expect.stringContaining('1 s') });
		expect(items()[0].binary).toBeUndefined();
	});

	test('an enrichment failure keeps the event, with enrichmentError {code, message} and no secret', async () => {
		await start({ options });
		const session = await endedCall();
		expect((await deliver(envelope('recording.ready', { id: 'rec_doesnotexist', object: 'recording', session_id: session.id, status: 'ready' }))).status).toBe(200);
		sandbox.injectFault({ method: 'GET', path: `/v1/sessions/${session.id}/transcript`, status: 500, times: 10 });
		await deliver(envelope('transcript.ready', { object: 'transcript', id: 'trn_1', session_id: session.id }));
		expect(harness.executions).toHaveLength(2);
		const [recording, transcript] = items();
		expect(recording.json.enrichmentError).toEqual({ code: expect.stringMatching(/not_found|http_404/), message: expect.stringContaining('404') });
		expect(recording.binary).toBeUndefined();
		expect(transcript.json.enrichmentError).toEqual({ code: expect.any(String), message: expect.stringContaining('500') });
		const text = JSON.stringify(items().map((i) => i.json));
		expect(text).not.toContain(sandbox.apiKey);
		expect(text).not.toContain(SECRET);
	});
});
