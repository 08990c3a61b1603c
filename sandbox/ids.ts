import { randomInt } from 'node:crypto';

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const MIXED_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomString(length: number, alphabet: string): string {
	let out = '';
	for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
	return out;
}

/** `sess_` + 26 upper-case alphanumerics (ULID-like, as in Kallglot's examples). */
export const newSessionId = (): string => `sess_${randomString(26, UPPER_ALNUM)}`;
export const newRequestId = (): string => `req_${randomString(24, MIXED_ALNUM)}`;
/** Test-mode stream token (`kst_live_…` in production). */
export const newStreamToken = (): string => `kst_test_${randomString(32, MIXED_ALNUM)}`;
export const newCallId = (): string => `call_${randomString(26, UPPER_ALNUM)}`;
export const newRecordingId = (): string => `rec_${randomString(26, UPPER_ALNUM)}`;
export const newAnalysisId = (): string => `anl_${randomString(26, UPPER_ALNUM)}`;
