import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import { createLogger, type Logger } from '@hms/service-kit';

/**
 * argon2id with the OWASP Password Storage Cheat Sheet's minimum (19 MiB, 2 passes, 1 lane). One lane
 * keeps a hash on one core, so a burst of sign-ins on a small pod does not starve request handling.
 * Raising these later is safe: verification reads the parameters from each stored hash, and sign-in
 * rehashes old ones.
 */
const HASH_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** Longest accepted password in UTF-8 bytes, so a megabyte-long password cannot be used to burn CPU. */
export const MAX_PASSWORD_BYTES = 256;

/** Hashes and verifies passwords; one instance per process. */
export class PasswordHasher {
  private dummyHash: string | undefined;

  constructor(private readonly logger: Logger = createLogger('identity')) {}

  async hash(password: string): Promise<string> {
    return argon2.hash(password, HASH_OPTIONS);
  }

  async verify(hash: string, password: string): Promise<boolean> {
    if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) return false;
    try {
      return await argon2.verify(hash, password);
    } catch (error) {
      // A malformed stored hash must not become a sign-in; it reads as a wrong password, and the
      // damaged row is worth an operator's look. Neither the hash nor the password is logged.
      this.logger.error({ err: error }, 'Failed to verify a password because the stored hash is malformed.');
      return false;
    }
  }

  /** Tells whether a hash was made with weaker parameters than today's and should be replaced. */
  needsRehash(hash: string): boolean {
    return argon2.needsRehash(hash, HASH_OPTIONS);
  }

  /**
   * Spends the time of one verification without a real account. Sign-in calls it when the tenant or
   * user does not exist, so response times do not tell which accounts exist.
   */
  async burn(password: string): Promise<void> {
    this.dummyHash ??= await this.hash(randomBytes(32).toString('base64url'));
    await this.verify(this.dummyHash, password);
  }
}
