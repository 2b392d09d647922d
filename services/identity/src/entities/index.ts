import { PlatformOperator } from './platform-operator.js';
import { Role, UserRole } from './role.js';
import { PlatformRefreshToken, PlatformSession, RefreshToken, Session } from './session.js';
import { SigningKey } from './signing-key.js';
import { Tenant } from './tenant.js';
import { PasswordHistoryEntry, User } from './user.js';

export {
  PlatformOperator,
  Role,
  UserRole,
  PlatformRefreshToken,
  PlatformSession,
  RefreshToken,
  Session,
  SigningKey,
  Tenant,
  PasswordHistoryEntry,
  User,
};

/** Every entity of the identity schema, for createOrm. */
export const identityEntities = [
  Tenant,
  PlatformOperator,
  User,
  PasswordHistoryEntry,
  Role,
  UserRole,
  Session,
  RefreshToken,
  PlatformSession,
  PlatformRefreshToken,
  SigningKey,
];
