import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { JWK } from 'jose';

const FORMAT = 'v1';

/** Raised when a stored private key cannot be decrypted: the encryption key is wrong or the row was altered. */
export class KeyDecryptionError extends Error {
  constructor(kid: string, cause: unknown) {
    super(
      `Signing key ${kid} cannot be decrypted. HMS_IDENTITY_KEY_ENCRYPTION_KEY differs from the key it was stored with, or the row was altered.`,
      { cause },
    );
    this.name = 'KeyDecryptionError';
  }
}

/**
 * Encrypts a private JWK with AES-256-GCM as `v1.<iv>.<tag>.<ciphertext>` (base64url parts). The kid is
 * authenticated data, so a ciphertext copied onto another key's row fails to decrypt.
 */
export function encryptPrivateJwk(encryptionKey: Buffer, kid: string, jwk: JWK): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', encryptionKey, iv);
  cipher.setAAD(Buffer.from(kid, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(jwk), 'utf8'), cipher.final()]);
  return [FORMAT, iv, cipher.getAuthTag(), ciphertext]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join('.');
}

/** Decrypts what encryptPrivateJwk produced for the same kid. */
export function decryptPrivateJwk(encryptionKey: Buffer, kid: string, stored: string): JWK {
  try {
    const [format, iv, tag, ciphertext] = stored.split('.');
    if (format !== FORMAT || !iv || !tag || !ciphertext)
      throw new Error(`unknown ciphertext format ${String(format)}`);
    const decipher = createDecipheriv('aes-256-gcm', encryptionKey, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(kid, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const plaintext = Buffer.concat([
      decipher.update(Buffer.from(ciphertext, 'base64url')),
      decipher.final(),
    ]);
    return JSON.parse(plaintext.toString('utf8')) as JWK;
  } catch (error) {
    throw new KeyDecryptionError(kid, error);
  }
}
