import { InputErrors, inPlatformTransaction, newId, type MikroORM } from '@hms/service-kit';
import { violatedUniqueConstraint } from '../db-errors.js';
import { PlatformOperator } from '../entities/platform-operator.js';
import { normalizeEmail } from '../users/contact.js';
import { checkPasswordRules } from '../users/password-policy.js';
import type { PasswordHasher } from '../users/passwords.js';

/** Operators guard every tenant's onboarding, so their passwords are longer than any tenant's default. */
export const OPERATOR_PASSWORD_MIN_LENGTH = 16;

export interface NewOperator {
  email: string;
  name: string;
  password: string;
}

export type CreateOperatorOutcome = { created: true; id: string } | { created: false; id: string };

/**
 * Creates a platform operator unless one with the email exists, in which case nothing changes: running
 * the same provisioning twice must not reset a password someone has since changed.
 */
export async function createPlatformOperator(
  orm: MikroORM,
  passwords: PasswordHasher,
  input: NewOperator,
): Promise<CreateOperatorOutcome> {
  const errors = new InputErrors();
  const email = normalizeEmail(errors, 'email', input.email);
  const name = input.name.trim();
  if (name.length < 1 || name.length > 200) errors.add('name', 'must be 1 to 200 characters');
  checkPasswordRules(errors, 'password', input.password, { minLength: OPERATOR_PASSWORD_MIN_LENGTH }, [
    email,
  ]);
  errors.throwIfAny();
  if (!email) throw new Error('unreachable: a valid email was checked above');

  const existing = await inPlatformTransaction(orm, (em) => em.findOne(PlatformOperator, { email }));
  if (existing) return { created: false, id: existing.id };

  const passwordHash = await passwords.hash(input.password);
  try {
    const id = await inPlatformTransaction(orm, async (em) => {
      const now = new Date();
      const operator = em.create(PlatformOperator, {
        id: newId(),
        email,
        name,
        passwordHash,
        passwordChangedAt: now,
        failedLoginCount: 0,
        createdAt: now,
      });
      return operator.id;
    });
    return { created: true, id };
  } catch (error) {
    // Another run created the same operator between the lookup and the insert.
    if (violatedUniqueConstraint(error) !== 'platform_operators_email_key') throw error;
    const winner = await inPlatformTransaction(orm, (em) => em.findOneOrFail(PlatformOperator, { email }));
    return { created: false, id: winner.id };
  }
}
