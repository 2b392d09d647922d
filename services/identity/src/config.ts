import { z } from 'zod';
import { env, loadConfig, subgraphEnvShape } from '@hms/service-kit';

// Identity verifies tokens with the keys in its own table (see keys/key-ring.ts), so unlike other
// subgraphs it takes no HMS_JWKS_URL: it is the service behind that URL.
const { HMS_JWKS_URL: _identityServesTheJwks, ...sharedShape } = subgraphEnvShape;

/** A base64 value that decodes to exactly 32 bytes: an AES-256 key. */
const aes256Key = () =>
  z
    .string()
    .min(1)
    .transform((value, ctx) => {
      const bytes = Buffer.from(value, 'base64');
      if (
        bytes.length !== 32 ||
        bytes.toString('base64').replace(/=+$/, '') !== value.trim().replace(/=+$/, '')
      ) {
        ctx.addIssue({
          code: 'custom',
          message: 'expected 32 random bytes in base64 (openssl rand -base64 32)',
        });
        return z.NEVER;
      }
      return bytes;
    });

/** Environment variables of the identity service; the keys are the variable names. */
export const identityEnvShape = {
  ...sharedShape,
  /** The app role: under row-level security, cannot change the schema. */
  HMS_DATABASE_URL: env.url('a PostgreSQL URL of the identity app role'),
  HMS_PORT: env.port().default(4001),
  /** Encrypts the private signing keys at rest. Losing it means issuing new keys and signing everyone out. */
  HMS_IDENTITY_KEY_ENCRYPTION_KEY: aes256Key(),
  HMS_ACCESS_TOKEN_TTL_SECONDS: env.positiveInt().max(3600).default(900),
  HMS_REFRESH_TOKEN_TTL_SECONDS: env.positiveInt().default(30 * 24 * 3600),
  /**
   * The outbox relay role (hms_identity_relay). With HMS_KAFKA_BROKERS it runs the relay in this
   * process; without them events stay in the outbox until a relay runs.
   */
  HMS_OUTBOX_RELAY_DATABASE_URL: env
    .url('a PostgreSQL URL of the identity relay role (hms_identity_relay)')
    .optional(),
  HMS_KAFKA_BROKERS: env.list().optional(),
};

export type IdentityConfig = z.infer<z.ZodObject<typeof identityEnvShape>>;

/** Reads and validates the identity configuration; throws ConfigError naming every bad variable. */
export function loadIdentityConfig(environment: NodeJS.ProcessEnv = process.env): IdentityConfig {
  return loadConfig(identityEnvShape, environment);
}
