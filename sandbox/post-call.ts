/**
 * Post-call data: the recordings a recorded session leaves when it ends (as long
 * as the call, each turn where the call had it), and the analyses requested on a session. Both are `processing` first and finish on a timer, reporting
 * each outcome as a webhook-style event (`recording.ready|failed`, `analysis.complete|failed`).
 * On an injected clock (`now`) no timer is armed: what is due finishes when it is next looked at.
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
	/** SandboxOptions.processingNow: absent, real time and one timer per recording or analysis. */
	now?: () => number;
	/** One finished recording or analysis: `type` is the webhook event type, `data` the resource. */
	onEvent(type: string, data: JsonObject): void;
}

/** A recording or analysis still processing: when it is due (on the store's clock) and how it ends. */
interface Pending {
	at: number;
	finish(finishedAt: Date): void;
	timer?: NodeJS.Timeout;
}

export class PostCallStore {
	private readonly recordingsById = new Map<string, SandboxRecording>();
	private readonly analysesById = new Map<string, SandboxAnalysis>();
	private readonly pending = new Set<Pending>();
	private recordingFailures = 0;
	private analysisFailures = 0;
	private closed = false;

	constructor(private readonly options: PostCallOptions) {}

	/** Every recording, what is due finished first (see settle). */
	get recordings(): Map<string, SandboxRecording> {
		this.settleOnClock();
		return this.recordingsById;
	}

	/** Every analysis, what is due finished first (see settle). */
	get analyses(): Map<string, SandboxAnalysis> {
		this.settleOnClock();
		return this.analysesById;
	}

	/**
	 * Finishes every recording and analysis whose processing time has passed by `now`, soonest
	 * first, each at its due time (its event sent then). On an injected clock every read does this.
	 */
	settle(): void {
		const now = this.now();
		const due = [...this.pending].filter((p) => p.at <= now).sort((a, b) => a.at - b.at);
		for (const p of due) this.finish(p, new Date(p.at));
	}

	/** The next `count` recordings (channel files) / analyses to finish end `failed`. */
	failNext(kind: 'recordings' | 'analyses', count: number): void {
		if (kind === 'recordings') this.recordingFailures = count;
		else this.analysisFailures = count;
	}

	/** Called once when a session ends: a recorded session gets its channel files, `processing`. */
	sessionEnded(session: SandboxSession): void {
		if (!session.recording.enabled) return;
		const channels: RecordingChannel[] = session.recording.mix_mode === 'mixed' ? ['mixed'] : ['agent', 'customer'];
		const createdAt = session.endedAt ?? new Date(this.now());
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
			this.recordingsById.set(recording.id, recording);
			this.after(this.options.recordingProcessingMs, (at) => this.finishRecording(recording, at));
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
			createdAt: new Date(this.now()),
			completedAt: null,
			result: {},
			error: null,
		};
		this.analysesById.set(analysis.id, analysis);
		this.after(this.options.analysisProcessingMs, (at) => this.finishAnalysis(analysis, session, at));
		return analysis;
	}

	/** Stops every pending timer: nothing finishes after the sandbox closed. */
	close(): void {
		this.closed = true;
		for (const p of this.pending) clearTimeout(p.timer);
		this.pending.clear();
	}

	private now(): number {
		return this.options.now?.() ?? Date.now();
	}

	private settleOnClock(): void {
		if (this.options.now) this.settle();
	}

	private after(ms: number, finish: (finishedAt: Date) => void): void {
		if (this.closed) return;
		const p: Pending = { at: this.now() + Math.max(0, ms), finish };
		this.pending.add(p);
		if (this.options.now) return;
		// Never synchronous, even for 0 ms: the request that started it answers `processing` first.
		p.timer = setTimeout(() => this.finish(p, new Date()), Math.max(0, ms));
		p.timer.unref();
	}

	private finish(p: Pending, finishedAt: Date): void {
		if (!this.pending.delete(p)) return;
		clearTimeout(p.timer);
		p.finish(finishedAt);
	}

	private finishRecording(recording: SandboxRecording, finishedAt: Date): void {
		recording.processedAt = finishedAt;
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

	private finishAnalysis(analysis: SandboxAnalysis, session: SandboxSession, finishedAt: Date): void {
		analysis.completedAt = finishedAt;
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
