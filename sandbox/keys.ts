/**
 * API key profiles: expired or revoked keys (401 expired_api_key / revoked_api_key) and keys
 * limited to some scopes (403 insufficient_permissions).
 */
import { ApiError } from './errors';
import type { ApiKeyProfile } from './types';

/** The scope a route needs; null for routes no documented scope covers (agents). */
export function requiredScope(method: string, path: string): string | null {
	if (/^\/v1\/sessions\/[^/]+\/recordings$/.test(path) || path.startsWith('/v1/recordings/')) return 'recordings:read';
	if (/^\/v1\/sessions\/[^/]+\/analysis$/.test(path) || path.startsWith('/v1/analyses/')) return 'analysis:read';
	if (path === '/v1/sessions' || path.startsWith('/v1/sessions/')) return method === 'GET' ? 'sessions:read' : 'sessions:write';
	return null;
}

/** The error a key with this profile gets for the request, or null when it may proceed. */
export function keyRefusal(profile: ApiKeyProfile | undefined, method: string, path: string): ApiError | null {
	if (profile === undefined) return null;
	if (profile.state === 'expired') {
		return new ApiError(401, 'expired_api_key', 'This API key has expired.');
	}
	if (profile.state === 'revoked') {
		return new ApiError(401, 'revoked_api_key', 'This API key was revoked.');
	}
	const scope = requiredScope(method, path);
	if (profile.scopes !== undefined && scope !== null && !profile.scopes.includes(scope)) {
		return new ApiError(403, 'insufficient_permissions', `This API key does not have the ${scope} scope.`);
	}
	return null;
}
