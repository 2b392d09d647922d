import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import type { AccessTokenClaims } from '@hms/service-kit/auth/claims';

export const TEST_ISSUER = 'https://identity.hms.test';
export const TEST_AUDIENCE = 'hms-graph';

export interface TestIssuer {
  jwksUrl: string;
  issuer: string;
  audience: string;
  /** Signs an access token; claims default to a doctor-like user of `tid`. */
  sign(
    claims: Partial<AccessTokenClaims> & { tid?: string },
    options?: { expiresInSeconds?: number },
  ): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Serves a JWKS on 127.0.0.1 and signs tokens with its Ed25519 key, so a subgraph under test verifies
 * tokens through its real JWKS client without running identity.
 */
export async function startTestIssuer(): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const kid = randomUUID();
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' };

  const server: Server = createServer((req, res) => {
    if (req.url === '/.well-known/jwks.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    issuer: TEST_ISSUER,
    audience: TEST_AUDIENCE,
    async sign(claims, options = {}) {
      const now = Math.floor(Date.now() / 1000);
      const body = {
        typ: 'user',
        roles: ['doctor'],
        perms: [],
        sid: randomUUID(),
        ...claims,
      };
      return new SignJWT(body as Record<string, unknown>)
        .setProtectedHeader({ alg: 'EdDSA', kid })
        .setIssuer(claims.iss ?? TEST_ISSUER)
        .setAudience(claims.aud ?? TEST_AUDIENCE)
        .setSubject(claims.sub ?? randomUUID())
        .setJti(randomUUID())
        .setIssuedAt(now)
        .setExpirationTime(now + (options.expiresInSeconds ?? 300))
        .sign(privateKey);
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
