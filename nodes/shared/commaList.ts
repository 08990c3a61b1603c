/**
 * A list parameter as strings: a list stays a list; a string (an expression's result, an AI
 * tool's argument) is split on commas. Parts are trimmed and empty parts dropped.
 */
export function commaList(value: unknown): string[] {
	const parts = Array.isArray(value) ? value.map(String) : typeof value === 'string' ? value.split(',') : value == null ? [] : [String(value)];
	return parts.map((part) => part.trim()).filter(Boolean);
}
