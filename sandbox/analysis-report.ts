/**
 * What a completed analysis says about a call, derived from its transcript (the sandbox's own
 * shapes for summary / sentiment / compliance / keywords / performance: §5.2 names the parts, not
 * their fields). Deterministic: the same transcript always gives the same report.
 */
import { BILINGUAL_CALL } from './script';
import { durationSeconds } from './sessions';
import type { AnalysisPart, SandboxSession, TranscriptTurn } from './types';

const POSITIVE = new Set(['thank', 'thanks', 'great', 'perfect', 'good', 'glad', 'happy', 'wonderful', 'excellent', 'set']);
const NEGATIVE = new Set(['problem', 'cancel', 'angry', 'unhappy', 'bad', 'terrible', 'complaint', 'wrong', 'late', 'refund']);
const STOPWORDS = new Set(
	'about after again also anything been could from give have hello here just like please shall that their them then there they this what when where which with would your you\'re'.split(
		' ',
	),
);

/** The English side of a turn: its text, or its translation when the speaker used another language. */
function englishText(turn: TranscriptTurn): string {
	if (turn.language === 'en' || turn.translation === undefined) return turn.text;
	return turn.translation.language === 'en' ? turn.translation.text : turn.text;
}

function words(text: string): string[] {
	return text
		.toLowerCase()
		.split(/[^\p{L}\p{N}']+/u)
		.filter((w) => w !== '');
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

function sentimentOf(turns: TranscriptTurn[]): { label: 'positive' | 'neutral' | 'negative'; score: number } {
	let positive = 0;
	let negative = 0;
	for (const turn of turns) {
		for (const word of words(englishText(turn))) {
			if (POSITIVE.has(word)) positive++;
			if (NEGATIVE.has(word)) negative++;
		}
	}
	const score = round2((positive - negative) / (positive + negative + 1));
	return { label: score > 0.2 ? 'positive' : score < -0.2 ? 'negative' : 'neutral', score };
}

function isScriptedCall(turns: TranscriptTurn[]): boolean {
	return turns.length === BILINGUAL_CALL.length && turns.every((t, i) => t.text === BILINGUAL_CALL[i].text);
}

function summaryOf(turns: TranscriptTurn[]): string {
	if (turns.length === 0) return 'No conversation took place on this session.';
	if (isScriptedCall(turns)) {
		return (
			'The customer, Lucía Fernández, called to move her Thursday 10:00 cleaning appointment. ' +
			'After checking her name and date of birth, the agent rebooked it for Monday at 4:30 pm; ' +
			'the customer confirmed and thanked the agent.'
		);
	}
	const opening = turns.find((t) => t.speaker === 'customer') ?? turns[0];
	const closing = [...turns].reverse().find((t) => t.speaker === 'agent') ?? turns[turns.length - 1];
	return `A ${turns.length}-turn call. The customer opened with: "${englishText(opening)}" The agent closed with: "${englishText(closing)}"`;
}

function keywordsOf(turns: TranscriptTurn[]): string[] {
	const counts = new Map<string, number>();
	for (const turn of turns) {
		for (const word of words(englishText(turn))) {
			if (word.length < 4 || STOPWORDS.has(word)) continue;
			counts.set(word, (counts.get(word) ?? 0) + 1);
		}
	}
	// Most frequent first; ties keep first appearance (Map order, stable sort).
	return [...counts.entries()]
		.sort((a, b) => b[1] - a[1])
		.slice(0, 6)
		.map(([word]) => word);
}

function complianceOf(session: SandboxSession, turns: TranscriptTurn[]): Record<string, unknown> {
	const agentWords = new Set(turns.filter((t) => t.speaker === 'agent').flatMap((t) => words(englishText(t))));
	const { recording } = session;
	const checks = [
		{
			id: 'identity_verification',
			passed: agentWords.has('name') && agentWords.has('birth'),
			detail: 'The agent asked for the caller’s name and date of birth.',
		},
		{
			id: 'recording_consent',
			passed: !recording.enabled || !recording.consent_required || recording.consent_state === 'granted',
			detail: recording.enabled ? `Recording consent state: ${recording.consent_state ?? 'not set'}.` : 'The call was not recorded.',
		},
	];
	return { passed: checks.every((c) => c.passed), checks };
}

function performanceOf(session: SandboxSession, turns: TranscriptTurn[]): Record<string, unknown> {
	const wordCount = (speaker: string): number =>
		turns.filter((t) => t.speaker === speaker).reduce((n, t) => n + words(t.text).length, 0);
	const agent = wordCount('agent');
	const customer = wordCount('customer');
	const total = agent + customer;
	return {
		turns: turns.length,
		agent_turns: turns.filter((t) => t.speaker === 'agent').length,
		customer_turns: turns.filter((t) => t.speaker === 'customer').length,
		talk_ratio: { agent: total === 0 ? 0 : round2(agent / total), customer: total === 0 ? 0 : round2(customer / total) },
		duration_seconds: durationSeconds(session),
	};
}

/** The requested parts of the report on `session` (which has ended: its transcript is final). */
export function analysisReport(session: SandboxSession, include: readonly AnalysisPart[]): Partial<Record<AnalysisPart, unknown>> {
	const turns = session.transcript;
	const report: Partial<Record<AnalysisPart, unknown>> = {};
	for (const part of include) {
		switch (part) {
			case 'summary':
				report.summary = summaryOf(turns);
				break;
			case 'sentiment': {
				const overall = sentimentOf(turns);
				report.sentiment = {
					overall: overall.label,
					score: overall.score,
					customer: sentimentOf(turns.filter((t) => t.speaker === 'customer')),
					agent: sentimentOf(turns.filter((t) => t.speaker === 'agent')),
				};
				break;
			}
			case 'compliance':
				report.compliance = complianceOf(session, turns);
				break;
			case 'keywords':
				report.keywords = keywordsOf(turns);
				break;
			case 'performance':
				report.performance = performanceOf(session, turns);
				break;
		}
	}
	return report;
}
