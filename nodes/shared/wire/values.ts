/**
 * Value rules several domains of the wire format share (phone numbers, language codes, plain
 * objects) and `compact`, which keeps an option the user did not set out of a body. Not re-exported
 * by the barrel: each domain exposes its own schemas.
 */
import { z } from 'zod';

const E164 = /^\+[1-9]\d{1,14}$/;
const LANGUAGE_CODE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

export const e164 = z
	.string()
	.trim()
	.regex(E164, 'must be an E.164 phone number: "+", country code and number, no spaces (e.g. +14155551234)');
export const languageCode = z
	.string()
	.trim()
	.regex(LANGUAGE_CODE, 'must be a language code such as en, es, de or pt-BR');
export const unitInterval = (name: string) =>
	z.number({ invalid_type_error: `${name} must be a number` }).min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1');
export const plainObject = z.record(z.unknown());

/** Drops undefined members so that an option the user did not set sends nothing. */
export function compact<T extends Record<string, unknown>>(value: T): Partial<T> | undefined {
	const entries = Object.entries(value).filter(([, v]) => v !== undefined);
	return entries.length ? (Object.fromEntries(entries) as Partial<T>) : undefined;
}
