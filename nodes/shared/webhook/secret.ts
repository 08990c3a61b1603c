/**
 * What can be checked about a signing secret without Kallglot (which has no API to confirm one):
 * the copy-paste mistakes that would make every delivery fail with 401. Plain TypeScript.
 */
const MIN_SECRET_LENGTH = 16;

/** A problem with the secrets, in words a builder can act on, or null when they look right. */
export function signingSecretProblem(current: unknown, previous: unknown): string | null {
	const check = (label: string, value: string): string | null => {
		if (value.trim() !== value) return `${label} starts or ends with a space or line break: copy it again without them`;
		if (/\s/.test(value)) return `${label} contains a space or line break: copy the whole secret as one word`;
		if (value.length < MIN_SECRET_LENGTH) return `${label} is shorter than ${MIN_SECRET_LENGTH} characters: copy the whole secret from the Kallglot portal`;
		return null;
	};
	const now = typeof current === 'string' ? current : '';
	if (now === '') return 'The signing secret is empty: copy it from your webhook endpoint in the Kallglot portal';
	const before = typeof previous === 'string' ? previous : '';
	return (
		check('The signing secret', now) ??
		(before === '' ? null : check('The previous signing secret', before)) ??
		(before === now ? 'The previous signing secret is the same as the current one: clear it, or paste the old secret' : null)
	);
}
