import { createHash, randomBytes } from 'node:crypto';
import { isUuid } from '@hms/service-kit';

/** Prefix of platform operator refresh tokens, which belong to no tenant. */
export const PLATFORM_REFRESH_PREFIX = 'platform';

/**
 * Creates a refresh token `<tenant id or "platform">.<256 random bits>`. The prefix lets a refresh find
 * its row inside the right tenant's transaction, so the refresh token table stays under row-level
 * security. Only the random part is secret.
 */
export function newRefreshToken(prefix: string): string {
  return `${prefix}.${randomBytes(32).toString('base64url')}`;
}

/** Hashes a refresh token with SHA-256 (hex) for storage, because the token itself is never stored. */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export type RefreshTokenOwner = { kind: 'tenant'; tenantId: string } | { kind: 'platform' };

/** Reads the owner from a presented refresh token, or undefined when it is not one this service issued. */
export function ownerOfRefreshToken(token: string): RefreshTokenOwner | undefined {
  const match = /^([^.]+)\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match?.[1]) return undefined;
  if (match[1] === PLATFORM_REFRESH_PREFIX) return { kind: 'platform' };
  if (isUuid(match[1])) return { kind: 'tenant', tenantId: match[1].toLowerCase() };
  return undefined;
}
