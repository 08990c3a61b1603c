/** Public surface of the Kallglot sandbox (tests, the demo and the CLI import from here). */
export { KallglotSandbox, SANDBOX_API_KEY, type SandboxStats } from './server';
export { SANDBOX_AGENT_ID, seedAgents } from './agents';
export {
	BILINGUAL_CALL,
	expectedCallFrames,
	partialTexts,
	translationShapeAt,
	type ScriptUtterance,
} from './script';
export { analysisResource, recordingResource, type PostCallStore } from './post-call';
export { WAV_BIT_DEPTH, WAV_SAMPLE_RATE } from './wav';
export {
	DEFAULT_RETRY_DELAYS_MS,
	DEFAULT_TIMEOUT_MS,
	WebhookDeliverer,
	signatureHeader,
	webhookSignature,
	type DeliveryFault,
	type WebhookAttempt,
	type WebhookDelivererOptions,
	type WebhookEndpoint,
	type WebhookEnvelope,
	type WebhookFaults,
} from './webhooks';
export type {
	Agent,
	AnalysisPart,
	FinalsOptions,
	PlayOptions,
	RateLimitModel,
	RateLimitOptions,
	RecordedHandshake,
	RecordedRequest,
	RestFault,
	SandboxAnalysis,
	SandboxOptions,
	SandboxRecording,
	SandboxSession,
	ScriptFrame,
	SessionMode,
	SessionStatus,
	Speaker,
	StreamFaults,
	TranscriptTurn,
	TranslationShape,
} from './types';
