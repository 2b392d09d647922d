import { newId, type EntityManager, type InputErrors } from '@hms/service-kit';
import { PasswordHistoryEntry, type User } from '../entities/user.js';
import type { PasswordPolicy } from '../tenants/settings.js';
import { MAX_PASSWORD_BYTES, type PasswordHasher } from './passwords.js';

/**
 * Checks a new password against the rules that need no stored data: the tenant's minimum length, the
 * byte limit, and not being the account's own email or phone. Length counts characters as a person
 * does (code points), not UTF-16 units.
 */
export function checkPasswordRules(
  errors: InputErrors,
  field: string,
  password: string,
  policy: Pick<PasswordPolicy, 'minLength'>,
  identifiers: (string | null | undefined)[] = [],
): void {
  const length = [...password].length;
  if (length < policy.minLength) errors.add(field, `must be at least ${policy.minLength} characters`);
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES)
    errors.add(field, `must be at most ${MAX_PASSWORD_BYTES} bytes`);
  if (password.trim() === '') errors.add(field, 'must not be blank');
  const lowered = password.trim().toLowerCase();
  if (identifiers.some((identifier) => identifier && identifier.toLowerCase() === lowered)) {
    errors.add(field, 'must not be the email address or phone number of the account');
  }
}

/**
 * Tells whether `password` matches the current password or one of the previous `historyCount - 1`
 * ones, so that historyCount = 5 forbids the last five passwords including the current one.
 */
export async function isRecentPassword(
  em: EntityManager,
  passwords: PasswordHasher,
  user: User,
  password: string,
  policy: Pick<PasswordPolicy, 'historyCount'>,
): Promise<boolean> {
  if (policy.historyCount === 0) return false;
  if (await passwords.verify(user.passwordHash, password)) return true;
  const previous = await em.find(
    PasswordHistoryEntry,
    { userId: user.id },
    { orderBy: { createdAt: 'desc' }, limit: Math.max(policy.historyCount - 1, 0) },
  );
  for (const entry of previous) {
    if (await passwords.verify(entry.passwordHash, password)) return true;
  }
  return false;
}

/**
 * Replaces the user's password hash, moving the old one into the history and dropping history beyond
 * what the policy can ever check, so no more old hashes are kept than needed.
 */
export async function replacePasswordHash(
  em: EntityManager,
  user: User,
  newHash: string,
  policy: Pick<PasswordPolicy, 'historyCount'>,
  now: Date,
): Promise<void> {
  em.create(PasswordHistoryEntry, {
    id: newId(),
    tenantId: user.tenantId,
    userId: user.id,
    passwordHash: user.passwordHash,
    createdAt: now,
  });
  user.passwordHash = newHash;
  user.passwordChangedAt = now;
  user.updatedAt = now;
  await em.flush();

  const keep = Math.max(policy.historyCount - 1, 0);
  const stale = await em.find(
    PasswordHistoryEntry,
    { userId: user.id },
    { orderBy: { createdAt: 'desc' }, offset: keep },
  );
  for (const entry of stale) em.remove(entry);
}

/** Tells whether the user must choose a new password before working: reset by an admin, or expired. */
export function passwordChangeRequired(
  user: User,
  policy: Pick<PasswordPolicy, 'maxAgeDays'>,
  now: Date,
): boolean {
  if (user.passwordResetRequired) return true;
  if (policy.maxAgeDays === 0) return false;
  return now.getTime() - user.passwordChangedAt.getTime() > policy.maxAgeDays * 86_400_000;
}
