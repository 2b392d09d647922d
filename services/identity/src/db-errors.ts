import { UniqueConstraintViolationException } from '@mikro-orm/postgresql';

/** Returns the name of the unique constraint or index that `error` violated, or undefined for any other error. */
export function violatedUniqueConstraint(error: unknown): string | undefined {
  if (!(error instanceof UniqueConstraintViolationException)) return undefined;
  const constraint = (error as { constraint?: unknown }).constraint;
  return typeof constraint === 'string' ? constraint : 'unknown';
}
