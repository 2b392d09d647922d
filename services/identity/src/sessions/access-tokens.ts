import { SignJWT } from 'jose';
import { newId } from '@hms/service-kit';
import type { KeyRing } from '../keys/key-ring.js';

/** Claims an access token makes about its holder, as AccessTokenClaims in the service kit defines them. */
export interface Grant {
  typ: 'user' | 'platform';
  subjectId: string;
  /** Absent for platform operators only. */
  tenantId?: string;
  roles: string[];
  perms: string[];
  /** The token carries no roles or permissions until the holder changes the password. */
  passwordChangeRequired: boolean;
}

export interface SignedAccessToken {
  token: string;
  expiresAt: Date;
}

/** Signs EdDSA access tokens with the active key of the ring. */
export class AccessTokenSigner {
  constructor(
    private readonly keys: KeyRing,
    private readonly issuer: string,
    private readonly audience: string,
    private readonly ttlSeconds: number,
  ) {}

  async sign(grant: Grant, sessionId: string): Promise<SignedAccessToken> {
    const { kid, key } = await this.keys.activeSigningKey();
    const issuedAt = Math.floor(Date.now() / 1000);
    const expiresAt = issuedAt + this.ttlSeconds;
    const claims: Record<string, unknown> = {
      sid: sessionId,
      roles: grant.passwordChangeRequired ? [] : grant.roles,
      perms: grant.passwordChangeRequired ? [] : grant.perms,
      typ: grant.typ,
    };
    if (grant.tenantId) claims.tid = grant.tenantId;

    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setAudience(this.audience)
      .setSubject(grant.subjectId)
      .setJti(newId())
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .sign(key);
    return { token, expiresAt: new Date(expiresAt * 1000) };
  }
}
