import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import type { JWK } from 'jose';

/**
 * An Ed25519 key pair that signs access tokens. Exactly one key is active and signs new tokens. Retired
 * keys stay published in the JWKS until every token they signed has expired.
 */
export const SigningKey = defineEntity({
  name: 'SigningKey',
  tableName: 'signing_keys',
  properties: {
    kid: p.string().primary(),
    alg: p.string(),
    publicJwk: p.json<JWK>(),
    /** Private JWK, encrypted with AES-256-GCM under HMS_IDENTITY_KEY_ENCRYPTION_KEY (format in keys/encryption.ts). */
    privateJwkCiphertext: p.string(),
    createdAt: p.datetime(),
    activatedAt: p.datetime(),
    retiredAt: p.datetime().nullable(),
  },
});

export type SigningKey = InferEntity<typeof SigningKey>;
