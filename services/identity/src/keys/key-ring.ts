import {
  errors as joseErrors,
  exportJWK,
  generateKeyPair,
  importJWK,
  type CryptoKey,
  type JWK,
  type JWTVerifyGetKey,
} from 'jose';
import {
  inPlatformTransaction,
  newId,
  type EntityManager,
  type Logger,
  type MikroORM,
} from '@hms/service-kit';
import { SigningKey } from '../entities/signing-key.js';
import { decryptPrivateJwk, encryptPrivateJwk } from './encryption.js';

/** Serializes key creation and rotation across identity instances; any constant unique to this purpose works. */
const SIGNING_KEY_LOCK = 'identity.signing_keys';

/** How long a retired key stays published beyond the access token lifetime, for clock skew and caches. */
const RETIRED_KEY_GRACE_SECONDS = 300;

/** How long an instance keeps signing with the key it loaded; after a rotation elsewhere it switches within this. */
const SIGNING_KEY_CACHE_MS = 60_000;
const VERIFICATION_KEYS_CACHE_MS = 60_000;
/** A token with an unknown kid reloads the keys at most this often, so forged kids cannot flood the database. */
const UNKNOWN_KID_RELOAD_COOLDOWN_MS = 5_000;

interface VerificationKey {
  key: CryptoKey;
  /** After this instant the key no longer verifies anything; undefined while it is active. */
  publishedUntil: number | undefined;
}

/**
 * The signing keys of access tokens: creates the first one, rotates, signs with the active one and
 * publishes the public halves. Private keys are decrypted only in memory.
 */
export class KeyRing {
  private signing: { kid: string; key: CryptoKey; loadedAt: number } | undefined;
  private verification: { keys: Map<string, VerificationKey>; loadedAt: number } | undefined;
  private lastUnknownKidReload = 0;

  constructor(
    private readonly orm: MikroORM,
    private readonly encryptionKey: Buffer,
    private readonly accessTokenTtlSeconds: number,
    private readonly logger: Logger,
  ) {}

  /** How long after retirement a key is still published and accepted. */
  get retiredKeyLifetimeMs(): number {
    return (this.accessTokenTtlSeconds + RETIRED_KEY_GRACE_SECONDS) * 1000;
  }

  /**
   * Creates a key when none is active, under an advisory lock so that two instances starting together
   * create one key, not two. Also decrypts the active key, so a wrong encryption key fails the start
   * instead of the first sign-in.
   */
  async ensureActiveKey(): Promise<string> {
    const kid = await inPlatformTransaction(this.orm, async (em) => {
      await em.execute('select pg_advisory_xact_lock(hashtext(?))', [SIGNING_KEY_LOCK]);
      const active = await em.findOne(SigningKey, { retiredAt: null });
      if (active) {
        decryptPrivateJwk(this.encryptionKey, active.kid, active.privateJwkCiphertext);
        return active.kid;
      }
      const created = await this.createKey(em, new Date());
      this.logger.info({ kid: created.kid }, 'Created the first access token signing key.');
      return created.kid;
    });
    this.forgetCachedKeys();
    return kid;
  }

  /**
   * Makes a new key active and retires the current one. Tokens signed by the retired key keep verifying
   * until they expire, because the key stays published for the access token lifetime plus a grace period.
   */
  async rotate(): Promise<SigningKey> {
    const created = await inPlatformTransaction(this.orm, async (em) => {
      await em.execute('select pg_advisory_xact_lock(hashtext(?))', [SIGNING_KEY_LOCK]);
      const now = new Date();
      const previous = await em.find(SigningKey, { retiredAt: null });
      for (const key of previous) key.retiredAt = now;
      // The retirement must reach the database before the insert, or the single-active index rejects it.
      await em.flush();
      const key = await this.createKey(em, now);
      this.logger.info(
        { kid: key.kid, retired: previous.map((old) => old.kid) },
        'Rotated the access token signing key.',
      );
      return key;
    });
    this.forgetCachedKeys();
    return created;
  }

  /** Returns the key that signs new tokens, cached for a minute so that signing costs no query. */
  async activeSigningKey(): Promise<{ kid: string; key: CryptoKey }> {
    if (this.signing && Date.now() - this.signing.loadedAt < SIGNING_KEY_CACHE_MS) return this.signing;
    const row = await inPlatformTransaction(this.orm, (em) => em.findOne(SigningKey, { retiredAt: null }));
    if (!row)
      throw new Error(
        'No active signing key exists; ensureActiveKey() runs at start and rotation keeps one.',
      );
    const jwk = decryptPrivateJwk(this.encryptionKey, row.kid, row.privateJwkCiphertext);
    const key = (await importJWK(jwk, 'EdDSA')) as CryptoKey;
    this.signing = { kid: row.kid, key, loadedAt: Date.now() };
    return this.signing;
  }

  /** Returns the public JWKs of the active key and of keys retired recently enough that their tokens may still be valid. */
  async publishedKeys(): Promise<JWK[]> {
    const rows = await this.loadPublishedRows();
    return rows.map((row) => ({ ...row.publicJwk, kid: row.kid, alg: row.alg, use: 'sig' }));
  }

  /** Returns the 20 newest signing keys, for the platform's signingKeys field. */
  async listKeys(): Promise<SigningKey[]> {
    return inPlatformTransaction(this.orm, (em) =>
      em.find(SigningKey, {}, { orderBy: { createdAt: 'desc' }, limit: 20 }),
    );
  }

  /**
   * Returns a jose key resolver over the published keys, so this service verifies tokens without an
   * HTTP round trip to its own JWKS. It accepts exactly the keys that the JWKS publishes.
   */
  keySet(): JWTVerifyGetKey {
    return async (header) => {
      const kid = header.kid;
      if (!kid) throw new joseErrors.JWKSNoMatchingKey();

      let keys = await this.verificationKeys(false);
      if (!keys.has(kid) && Date.now() - this.lastUnknownKidReload > UNKNOWN_KID_RELOAD_COOLDOWN_MS) {
        this.lastUnknownKidReload = Date.now();
        keys = await this.verificationKeys(true);
      }
      const entry = keys.get(kid);
      if (!entry || (entry.publishedUntil !== undefined && entry.publishedUntil < Date.now())) {
        throw new joseErrors.JWKSNoMatchingKey();
      }
      return entry.key;
    };
  }

  private async verificationKeys(reload: boolean): Promise<Map<string, VerificationKey>> {
    if (
      !reload &&
      this.verification &&
      Date.now() - this.verification.loadedAt < VERIFICATION_KEYS_CACHE_MS
    ) {
      return this.verification.keys;
    }
    const rows = await this.loadPublishedRows();
    const keys = new Map<string, VerificationKey>();
    for (const row of rows) {
      keys.set(row.kid, {
        key: (await importJWK(row.publicJwk, 'EdDSA')) as CryptoKey,
        publishedUntil: row.retiredAt ? row.retiredAt.getTime() + this.retiredKeyLifetimeMs : undefined,
      });
    }
    this.verification = { keys, loadedAt: Date.now() };
    return keys;
  }

  private async loadPublishedRows(): Promise<SigningKey[]> {
    const cutoff = new Date(Date.now() - this.retiredKeyLifetimeMs);
    return inPlatformTransaction(this.orm, (em) =>
      em.find(
        SigningKey,
        { $or: [{ retiredAt: null }, { retiredAt: { $gt: cutoff } }] },
        { orderBy: { activatedAt: 'desc' } },
      ),
    );
  }

  private async createKey(em: EntityManager, now: Date): Promise<SigningKey> {
    const kid = newId();
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const privateJwk = await exportJWK(privateKey);
    const key = em.create(SigningKey, {
      kid,
      alg: 'EdDSA',
      publicJwk,
      privateJwkCiphertext: encryptPrivateJwk(this.encryptionKey, kid, privateJwk),
      createdAt: now,
      activatedAt: now,
      retiredAt: null,
    });
    await em.flush();
    return key;
  }

  private forgetCachedKeys(): void {
    this.signing = undefined;
    this.verification = undefined;
  }
}
