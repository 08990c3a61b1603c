/**
 * Session → Translate Audio: a recording or voicemail (n8n binary data) streamed into a new
 * WebSocket-only session at real-time pace, out comes a bilingual, speaker-separated transcript.
 *
 * Order matters for billing: the file is decoded and checked first (nothing is created for a file
 * we could refuse), then the session is created, streamed, and always ended — after success,
 * on any failure and when the execution is cancelled.
 */
import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { AudioInputError } from '../../../shared/audio/errors';
import { prepareAudio, type PreparedAudio } from '../../../shared/audio/prepare';
import { uploadAudio, UploadError, type HeardTurn, type UploadReport } from '../../../shared/audio/upload';
import { explainNetworkFailure } from '../../../shared/networkFailure';
import { describeProxy, streamAgent } from '../../../shared/proxy';
import type { EndpointResult } from '../../../shared/stream';
import type { KallglotApi } from '../../../shared/api';
import { normalizeTranslation, sessionModeOptions, toCreateSessionBody } from '../../../shared/wire';
import { idempotencyOptions, resolveIdempotencyKey } from '../../../shared/fields/idempotency';
import { metadataField } from '../../../shared/session/createSession';
import { AUTO_DETECT, languageOptions } from '../../../shared/fields/languages';
import { DEFAULT_MAX_DURATION_MINUTES, DEFAULT_QUIET_SECONDS, readTranslateAudioInput, TRANSLATION_MODES, type TranslateAudioInput } from './translateAudioInput';
import { languagesOf, outputJson, renderText, toOutputTurns, type TranslatedAudio } from './translateAudioOutput';

const show = { resource: ['session'], operation: ['translateAudio'] };

export const description: INodeProperties[] = [
	{
		displayName:
			'The audio is streamed into a new Kallglot session at real-time pace: a 2-minute voicemail takes about 2 minutes, plus the quiet period. It costs one session credit and the session time of the audio.',
		name: 'translateAudioNotice',
		type: 'notice',
		default: '',
		displayOptions: { show },
	},
	{
		displayName: 'Input Binary Field',
		name: 'binaryPropertyName',
		type: 'string',
		required: true,
		default: 'data',
		hint: 'The binary field of the input item that holds the audio file (WAV, MP3, FLAC or Ogg Opus)',
		displayOptions: { show },
	},
	{
		displayName: 'Mode',
		name: 'mode',
		type: 'options',
		noDataExpression: true,
		default: 'bidirectional_translation',
		options: sessionModeOptions().filter((o) => (TRANSLATION_MODES as readonly string[]).includes(o.value)),
		displayOptions: { show },
	},
	{
		displayName: 'Source Language',
		name: 'sourceLanguage',
		type: 'options',
		options: languageOptions,
		default: AUTO_DETECT,
		description: 'Language of the customer. Use an expression for a code not listed (e.g. pt-PT).',
		displayOptions: { show },
	},
	{
		displayName: 'Target Language',
		name: 'targetLanguage',
		type: 'options',
		options: languageOptions,
		default: AUTO_DETECT,
		description: 'Language of the agent, which the customer’s words are translated into. Use an expression for a code not listed.',
		displayOptions: { show },
	},
	{
		displayName: 'Mono File Speaker',
		name: 'monoSpeaker',
		type: 'options',
		default: 'customer',
		description: 'Who speaks in a mono file (e.g. the caller of a voicemail)',
		options: [
			{ name: 'Customer', value: 'customer' },
			{ name: 'Agent', value: 'agent' },
		],
		displayOptions: { show },
	},
	{
		displayName: 'Stereo File Channels',
		name: 'stereoChannels',
		type: 'options',
		default: 'leftAgentRightCustomer',
		description: 'How the two channels of a stereo file map to speakers. Kallglot’s own dual-channel recordings are left agent, right customer.',
		options: [
			{ name: 'Left Agent, Right Customer', value: 'leftAgentRightCustomer' },
			{ name: 'Left Customer, Right Agent', value: 'leftCustomerRightAgent' },
			{ name: 'Mix to One Speaker', value: 'mixToOneSpeaker', description: 'Both channels as the Mono File Speaker' },
		],
		displayOptions: { show },
	},
	{
		displayName: 'Output',
		name: 'output',
		type: 'options',
		default: 'session',
		options: [
			{ name: 'One Item per File', value: 'session', description: 'The transcript’s turns in a list, and a readable text' },
			{ name: 'One Item per Turn', value: 'turns', description: 'Each turn as its own item' },
		],
		displayOptions: { show },
	},
	metadataField({ show }, 'Key/value pairs stored on the session, e.g. your CRM contact ID'),
	idempotencyOptions(show, [
		{
			displayName: 'Max Duration (Minutes)',
			name: 'maxDurationMinutes',
			type: 'number',
			default: DEFAULT_MAX_DURATION_MINUTES,
			typeOptions: { minValue: 0.1, maxValue: 1440, numberPrecision: 1 },
			description: 'Longer files are refused before a session is created (the audio streams at real-time pace)',
		},
		{
			displayName: 'Metadata (JSON)',
			name: 'metadataJson',
			type: 'json',
			default: '{}',
			description: 'Metadata as a JSON object, merged over the Metadata pairs',
		},
		{
			displayName: 'Quiet Period (Seconds)',
			name: 'quietPeriodSeconds',
			type: 'number',
			default: DEFAULT_QUIET_SECONDS,
			typeOptions: { minValue: 0.5, maxValue: 60, numberPrecision: 1 },
			description: 'After the last audio, Kallglot has finished when no transcript event came for this long (waited at most 30 seconds)',
		},
	]),
];

/** What to do about a session.error, by Kallglot's code. */
const SESSION_ERROR_FIXES: Record<string, string> = {
	invalid_audio_format:
		'Kallglot refused the audio frames. The node sends μ-law 8 kHz mono as the contract asks; check that the credential’s Base URL points at Kallglot’s v1 API, and report this with the session ID.',
};

function audioError(ctx: IExecuteFunctions, error: AudioInputError, field: string, itemIndex: number): NodeOperationError {
	return new NodeOperationError(ctx.getNode(), `Invalid ${field}: ${error.message}`, {
		itemIndex,
		description: `${error.fix} Nothing was sent to Kallglot for this item: no session was created.`,
	});
}

async function readAudio(ctx: IExecuteFunctions, input: TranslateAudioInput, itemIndex: number): Promise<PreparedAudio> {
	const field = `Input Binary Field "${input.inputBinaryField}"`;
	const binary = ctx.getInputData()[itemIndex]?.binary?.[input.inputBinaryField];
	if (!binary) {
		const present = Object.keys(ctx.getInputData()[itemIndex]?.binary ?? {});
		throw new NodeOperationError(ctx.getNode(), `Invalid ${field}: the input item has no binary data in "${input.inputBinaryField}"`, {
			itemIndex,
			description: `${present.length ? `The item has binary fields ${present.map((p) => `"${p}"`).join(', ')}: name one of them.` : 'The item has no binary data: download the file first (e.g. HTTP Request with Response Format "File", or an email trigger with attachments).'} Nothing was sent to Kallglot for this item.`,
		});
	}
	const bytes = await ctx.helpers.getBinaryDataBuffer(itemIndex, input.inputBinaryField);
	const prepared = await prepareAudio(bytes, {
		monoSpeaker: input.monoSpeaker,
		stereoLayout: input.stereoLayout,
		maxDurationSeconds: input.maxDurationMinutes * 60,
	}).catch((error: unknown) => error as Error);
	if (prepared instanceof AudioInputError) throw audioError(ctx, prepared, field, itemIndex);
	if (prepared instanceof Error) throw new NodeOperationError(ctx.getNode(), prepared, { itemIndex });
	return prepared;
}

function uploadFailure(ctx: IExecuteFunctions, error: UploadError, sessionId: string, streamUrl: string, itemIndex: number): NodeApiError | NodeOperationError {
	const ended = `Session ${sessionId} was ended, so nothing more is billed.`;
	switch (error.kind) {
		case 'session_error':
			return new NodeApiError(
				ctx.getNode(),
				{ error: { code: error.code ?? 'session_error', message: error.message } },
				{
					message: error.message,
					description: `${(error.code && SESSION_ERROR_FIXES[error.code]) ?? 'Check the message, fix the input and run again.'} ${ended}`,
					itemIndex,
				},
			);
		case 'cancelled':
			return new NodeOperationError(ctx.getNode(), 'Translate Audio was cancelled', { itemIndex, description: ended });
		case 'already_ended':
		case 'ended_early':
			return new NodeOperationError(ctx.getNode(), error.message, {
				itemIndex,
				description: 'The session was ended from elsewhere (Session → End, the portal, or an idle timeout) while the audio streamed. Run again for a full transcript.',
			});
		case 'connect': {
			// A failed connection (certificate, name, proxy, refusal) says which and what fixes it.
			if (error.streamError?.kind !== 'network') break;
			const failure = explainNetworkFailure(error.streamError, { url: streamUrl, proxy: describeProxy(streamUrl) });
			return new NodeOperationError(ctx.getNode(), `Could not open the session's stream: ${failure.problem}`, {
				itemIndex,
				description: `${failure.fix} ${ended}`,
			});
		}
		case 'stream_lost':
			break;
	}
	return new NodeOperationError(ctx.getNode(), error.message, {
		itemIndex,
		description: `Check the network between n8n and Kallglot (proxies must allow WebSockets), then run again. ${ended}`,
	});
}

/** Ends the session over REST (idempotent on Kallglot's side); a failure here is logged, not thrown over the real error. */
async function endSession(ctx: IExecuteFunctions, api: KallglotApi, sessionId: string, itemIndex: number): Promise<void> {
	try {
		await api.call('endSession', [sessionId], { idempotencyKey: resolveIdempotencyKey(''), retry: 'cleanupEnd', itemIndex });
	} catch (error) {
		ctx.logger.warn(`Kallglot Translate Audio: could not end session ${sessionId}: ${(error as Error).message}`);
	}
}

async function refreshEndpoint(api: KallglotApi, sessionId: string, itemIndex: number): Promise<EndpointResult> {
	const session = await api.call('getSession', [sessionId], { itemIndex });
	if (session.status === 'ended') return { kind: 'ended', reason: session.end_reason ?? null };
	return session.stream ? { kind: 'live', endpoint: { url: session.stream.url, token: session.stream.token } } : { kind: 'waiting' };
}

/** The ended session (for started_at) and Kallglot's transcript; each null when not available. */
async function fetchTranscript(ctx: IExecuteFunctions, api: KallglotApi, sessionId: string, itemIndex: number) {
	const [session, transcript] = await Promise.allSettled([
		api.call('getSession', [sessionId], { itemIndex }),
		api.call('getTranscript', [sessionId], { itemIndex }),
	]);
	if (transcript.status === 'rejected') {
		const why = (transcript.reason as Error).message;
		ctx.logger.warn(`Kallglot Translate Audio: no transcript for ${sessionId}, using the stream's finals: ${why}`);
	}
	return {
		session: session.status === 'fulfilled' ? session.value : null,
		transcript: transcript.status === 'fulfilled' ? transcript.value : null,
	};
}

function heardTurns(turns: Array<{ speaker: string; language?: string | null; text: string; translation?: unknown; sequence?: number | null; timestamp?: string | null }>): HeardTurn[] {
	return turns.map((t) => ({
		speaker: t.speaker,
		language: t.language ?? null,
		text: t.text,
		translation: normalizeTranslation(t.translation as Parameters<typeof normalizeTranslation>[0]),
		sequence: t.sequence ?? null,
		timestamp: t.timestamp ?? null,
	}));
}

export async function execute(this: IExecuteFunctions, itemIndex: number, api: KallglotApi): Promise<INodeExecutionData[]> {
	const input = readTranslateAudioInput(this, itemIndex);
	const audio = await readAudio(this, input, itemIndex);
	const signal = this.getExecutionCancelSignal?.();

	const created = await api.call('createSession', [], {
		body: toCreateSessionBody({
			mode: input.mode,
			sourceLanguage: input.sourceLanguage,
			targetLanguage: input.targetLanguage,
			routing: { method: 'default' },
			metadata: input.metadata,
		}),
		idempotencyKey: resolveIdempotencyKey(input.idempotencyKey),
		itemIndex,
	});
	const sessionId = created.id;

	let report: UploadReport | null = null;
	/** The Idempotency-Key replayed an earlier run whose session has ended: its transcript is the answer. */
	let replayed = false;
	try {
		if (!created.stream) {
			throw new NodeOperationError(this.getNode(), `Kallglot created session ${sessionId} without a stream`, {
				itemIndex,
				description: 'Translate Audio needs the session’s stream.url and token. The session was ended.',
			});
		}
		const outcome = await uploadAudio({
			audio,
			endpoint: { url: created.stream.url, token: created.stream.token },
			refreshEndpoint: async () => await refreshEndpoint(api, sessionId, itemIndex),
			// The execution's clock: the upload's pacing and the API calls' waits on one.
			clock: api.clock,
			agentFor: streamAgent,
			signal,
			quietMs: input.quietPeriodSeconds * 1000,
			log: {
				debug: (m) => this.logger.debug(m),
				info: (m) => this.logger.info(m),
				warn: (m) => this.logger.warn(m),
				error: (m) => this.logger.error(m),
			},
		}).catch((error: unknown) => error as Error);
		if (outcome instanceof UploadError && outcome.kind === 'already_ended') {
			replayed = true;
			report = { finals: [], chunksSent: 0, reconnects: 0, unheardSeconds: 0, endConfirmed: true, endReason: null, quietBounded: false };
		} else if (outcome instanceof UploadError) throw uploadFailure(this, outcome, sessionId, created.stream.url, itemIndex);
		else if (outcome instanceof Error) throw new NodeOperationError(this.getNode(), outcome, { itemIndex });
		else report = outcome;
	} finally {
		// Whatever happened, nothing keeps billing: a session not confirmed ended is ended over REST.
		if (report?.endConfirmed !== true) await endSession(this, api, sessionId, itemIndex);
	}

	const fetched = await fetchTranscript(this, api, sessionId, itemIndex);
	const transcript = fetched.transcript;
	const fromTranscript = transcript !== null && (transcript.turns.length > 0 || report.finals.length === 0);
	const startedAt = fetched.session?.started_at ?? null;
	const turns = toOutputTurns(transcript && fromTranscript ? heardTurns(transcript.turns) : report.finals, startedAt);
	const result: TranslatedAudio = {
		sessionId,
		durationSeconds: Math.round(audio.durationSeconds * 100) / 100,
		languages: languagesOf(turns, transcript?.metadata?.languages_detected),
		turns,
		text: renderText(turns),
		turnsFrom: fromTranscript ? 'transcript' : 'stream',
		replayed,
		audio: {
			container: audio.source.container,
			codec: audio.source.codec,
			sampleRate: audio.source.sampleRate,
			channels: audio.source.channels,
			speakers: audio.tracks.map((t) => t.speaker),
		},
		stream: { reconnects: report.reconnects, unheardSeconds: report.unheardSeconds, quietPeriodBounded: report.quietBounded },
	};
	return outputJson(result, input.outputPerTurn).map((json) => ({ json, pairedItem: { item: itemIndex } }));
}
