/**
 * Post-call data: the recordings a recorded session leaves when it ends (as long
 * as the call, each turn where the call had it), and the analyses requested on a session. Both are `processing` first and finish on a timer, reporting
 * each outcome as a webhook-style event (`recording.ready|failed`, `analysis.complete|failed`).
 */
import { analysisReport } from './analysis-report';
import { newAnalysisId, newRecordingId } from './ids';
import { durationSeconds } from './sessions';
import { WAV_BIT_DEPTH, WAV_SAMPLE_RATE, synthesizeRecording, wavByteLength, wavDurationSeconds, type SpokenTurn } from './wav';
import type {
	AnalysisPart,
	JsonObject,
	RecordingChannel,
	SandboxAnalysis,
	SandboxRecording,
	SandboxSession,
} from './types';

/** How long a download stays available [ours]. */
const RECORDING_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

export interface PostCallOptions {
	recordingProcessingMs: number;
	analysisProcessingMs: number;
	/** One finished recording or analysis: `type` is the webhook event type, `data` the resource. */
	onEvent(type: string, data: JsonObject): void;
}

export class PostCallStore {
	readonly recordings = new Map<string, SandboxRecording>();
	readonly analyses = new Map<string, SandboxAnalysis>();
	private readonly timers = new Set<NodeJS.Timeout>();
	private recordingFailures = 0;
	private analysisFailures = 0;
	private closed = false;

	constructor(private readonly options: PostCallOptions) {}

	/** The next `count` recordings (channel files) / analyses to finish end `failed`. */
	failNext(kind: 'recordings' | 'analyses', count: number): void {
		if (kind === 'recordings') this.recordingFailures = count;
		else this.analysisFailures = count;
	}

	/** Called once when a session ends: a recorded session gets its channel files, `processing`. */
	sessionEnded(session: SandboxSession): void {
		if (!session.recording.enabled) return;
		const channels: RecordingChannel[] = session.recording.mix_mode === 'mixed' ? ['mixed'] : ['agent', 'customer'];
		const createdAt = session.endedAt ?? new Date();
		const callSeconds = durationSeconds(session, createdAt);
		const turns = spokenTurns(session, callSeconds);
		for (const channel of channels) {
			const recording: SandboxRecording = {
				id: newRecordingId(),
				sessionId: session.id,
				channel,
				status: 'processing',
				createdAt,
				expiresAt: new Date(createdAt.getTime() + RECORDING_RETENTION_MS),
				processedAt: new Date(createdAt.getTime() + this.options.recordingProcessingMs),
				callSeconds,
				turns,
				error: null,
			};
			this.recordings.set(recording.id, recording);
			this.after(this.options.recordingProcessingMs, () => this.finishRecording(recording));
		}
	}

	recordingsOf(sessionId: string): SandboxRecording[] {
		return [...this.recordings.values()].filter((r) => r.sessionId === sessionId);
	}

	/** The WAV file of a ready recording. */
	audio(recording: SandboxRecording): Buffer {
		return synthesizeRecording(recording.turns, recording.channel, recording.callSeconds);
	}

	requestAnalysis(session: SandboxSession, profile: string, include: AnalysisPart[]): SandboxAnalysis {
		const analysis: SandboxAnalysis = {
			id: newAnalysisId(),
			sessionId: session.id,
			ownerApiKey: session.ownerApiKey,
			status: 'processing',
			profile,
			include,
			createdAt: new Date(),
			completedAt: null,
			result: {},
			error: null,
		};
		this.analyses.set(analysis.id, analysis);
		this.after(this.options.analysisProcessingMs, () => this.finishAnalysis(analysis, session));
		return analysis;
	}

	/** Stops every pending timer: nothing finishes after the sandbox closed. */
	close(): void {
		this.closed = true;
		for (const timer of this.timers) clearTimeout(timer);
		this.timers.clear();
	}

	private after(ms: number, run: () => void): void {
		if (this.closed) return;
		// Never synchronous, even for 0 ms: the request that started it answers `processing` first.
		const timer = setTimeout(() => {
			this.timers.delete(timer);
			run();
		}, Math.max(0, ms));
		timer.unref();
		this.timers.add(timer);
	}

	private finishRecording(recording: SandboxRecording): void {
		recording.processedAt = new Date();
		if (this.recordingFailures > 0) {
			this.recordingFailures--;
			recording.status = 'failed';
			recording.error = { code: 'recording_processing_failed', message: 'The recording could not be processed.' };
			this.options.onEvent('recording.failed', recordingResource(recording));
			return;
		}
		recording.status = 'ready';
		this.options.onEvent('recording.ready', recordingResource(recording));
	}

	private finishAnalysis(analysis: SandboxAnalysis, session: SandboxSession): void {
		analysis.completedAt = new Date();
		if (this.analysisFailures > 0) {
			this.analysisFailures--;
			analysis.status = 'failed';
			analysis.error = { code: 'analysis_failed', message: 'The analysis could not be completed.' };
			this.options.onEvent('analysis.failed', analysisResource(analysis));
			return;
		}
		analysis.result = analysisReport(session, analysis.include);
		analysis.status = 'completed';
		this.options.onEvent('analysis.complete', analysisResource(analysis));
	}
}

/**
 * The transcript's turns on the call's time line: each from the previous turn's end (or the call's
 * start) to its final's timestamp, within [0, callSeconds].
 */
function spokenTurns(session: SandboxSession, callSeconds: number): SpokenTurn[] {
	const start = session.startedAt?.getTime() ?? 0;
	let previousEnd = 0;
	return session.transcript.map((turn) => {
		const at = session.startedAt === null ? 0 : (Date.parse(turn.timestamp) - start) / 1000;
		const endSeconds = Math.min(callSeconds, Math.max(previousEnd, at));
		const spoken = { speaker: turn.speaker, text: turn.text, startSeconds: previousEnd, endSeconds };
		previousEnd = endSeconds;
		return spoken;
	});
}

/** GET /v1/recordings/{id}: `download_url` only once the file is ready. */
export function recordingResource(recording: SandboxRecording): JsonObject {
	const ready = recording.status === 'ready';
	const resource: JsonObject = {
		id: recording.id,
		object: 'recording',
		session_id: recording.sessionId,
		channel: recording.channel,
		status: recording.status,
		duration: ready ? wavDurationSeconds(recording.callSeconds) : null,
		format: 'wav',
		size: ready ? wavByteLength(recording.callSeconds) : null,
		sample_rate: WAV_SAMPLE_RATE,
		bit_depth: WAV_BIT_DEPTH,
		download_url: ready ? `/v1/recordings/${recording.id}/audio` : null,
		created_at: recording.createdAt.toISOString(),
		expires_at: recording.expiresAt.toISOString(),
	};
	if (recording.error !== null) resource.error = recording.error;
	return resource;
}

/** GET /v1/analyses/{id}: every part key is present; null until completed or when not requested. */
export function analysisResource(analysis: SandboxAnalysis): JsonObject {
	return {
		id: analysis.id,
		object: 'analysis',
		session_id: analysis.sessionId,
		status: analysis.status,
		profile: analysis.profile,
		include: [...analysis.include],
		summary: analysis.result.summary ?? null,
		sentiment: analysis.result.sentiment ?? null,
		compliance: analysis.result.compliance ?? null,
		keywords: analysis.result.keywords ?? null,
		performance: analysis.result.performance ?? null,
		error: analysis.error,
		created_at: analysis.createdAt.toISOString(),
		completed_at: analysis.completedAt?.toISOString() ?? null,
	};
}

/** `filename` of the audio download's Content-Disposition. */
export function recordingFileName(recording: SandboxRecording): string {
	return `recording-${recording.sessionId}-${recording.channel}.wav`;
}
