import type { Logger, MikroORM, Redis } from '@hms/service-kit';
import type { IdentityConfig } from './config.js';
import type { KeyRing } from './keys/key-ring.js';
import type { PasswordHasher } from './users/passwords.js';

/** Shared dependencies of the identity modules, built once at start and passed down rather than imported as globals. */
export interface IdentityDeps {
  orm: MikroORM;
  redis: Redis;
  logger: Logger;
  config: IdentityConfig;
  passwords: PasswordHasher;
  keys: KeyRing;
}
