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
export type {
	Agent,
	PlayOptions,
	RateLimitOptions,
	RecordedHandshake,
	RecordedRequest,
	RestFault,
	SandboxOptions,
	SandboxSession,
	ScriptFrame,
	SessionMode,
	SessionStatus,
	Speaker,
	StreamFaults,
	TranscriptTurn,
	TranslationShape,
} from './types';
