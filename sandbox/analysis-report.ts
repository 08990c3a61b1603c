/**
 * What a completed analysis says about a call, derived from its transcript (the sandbox's own
 * shapes for summary / sentiment / compliance / keywords / performance: Kallglot names the parts, not
 * their fields). Deterministic: the same session and transcript always give the same report.
 */
import { callScriptFor } from './script';
import { durationSeconds } from './sessions';
import type { AnalysisPart, SandboxSession, TranscriptTurn } from './types';

const POSITIVE = new Set(['thank', 'thanks', 'great', 'perfect', 'good', 'glad', 'happy', 'wonderful', 'excellent', 'set']);
const NEGATIVE = new Set(['problem', 'cancel', 'angry', 'unhappy', 'bad', 'terrible', 'complaint', 'wrong', 'late', 'refund', 'remove', 'sorry', 'trouble']);
const STOPWORDS = new Set(
	[
		"about after again also anything been could from give have hello here just like please shall that their them then there they this what when where which with would your you're",
		// Courtesy and the outbound calls' greeting: in every call, so no call's keyword.
		'account assistant brightsmile dental fine goodbye great holder noted okay right speaking understand virtual',
	]
		.join(' ')
		.split(' '),
);

/** The English side of a turn: its text, or its translation when the speaker used another language. */
function englishText(turn: TranscriptTurn): string {
	if (turn.language === 'en' || turn.translation === undefined) return turn.text;
	return turn.translation.language === 'en' ? turn.translation.text : turn.text;
}

/** Lower-case words; hyphenated ones ("check-up") stay whole. */
function words(text: string): string[] {
	return text
		.toLowerCase()
		.split(/[^\p{L}\p{N}'-]+/u)
		.map((w) => w.replace(/^-+|-+$/g, ''))
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

function summaryOf(session: SandboxSession, turns: TranscriptTurn[]): string {
	if (turns.length === 0) return 'No conversation took place on this session.';
	// The session's scripted call, played in full: its own summary (who, what, the outcome).
	const script = callScriptFor(session);
	if (turns.length === script.utterances.length && turns.every((t, i) => t.text === script.utterances[i].text)) return script.summary;
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
	const agentText = turns
		.filter((t) => t.speaker === 'agent')
		.map((t) => words(englishText(t)).join(' '))
		.join(' ');
	const askedNameAndBirth = /\bname\b/.test(agentText) && /\bbirth\b/.test(agentText);
	const askedForContact = agentText.includes('am i speaking with');
	const { recording } = session;
	const checks = [
		{
			id: 'identity_verification',
			passed: askedNameAndBirth || askedForContact,
			detail: askedNameAndBirth
				? 'The agent asked for the caller’s name and date of birth.'
				: askedForContact
					? 'The agent confirmed whom it was speaking with.'
					: 'The agent did not verify whom it was speaking with.',
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
				report.summary = summaryOf(session, turns);
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
