/**
 * Creates a platform operator, who can then sign in without a tenant slug and onboard tenants.
 *
 *   npm run create-platform-operator -w @hms/identity -- --email ops@example.org --password '…' --name 'Asha Rao'
 *
 * Reads HMS_DATABASE_URL (the identity app role). Idempotent: when an operator with the email exists,
 * nothing is changed and it exits 0, so provisioning scripts can run it on every start.
 */
import { parseArgs } from 'node:util';
import { ConfigError, createOrm, env, HmsError, loadConfig } from '@hms/service-kit';
import { identityEntities } from '../entities/index.js';
import { createPlatformOperator } from '../platform/operators.js';
import { PasswordHasher } from '../users/passwords.js';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { email: { type: 'string' }, password: { type: 'string' }, name: { type: 'string' } },
    strict: true,
  });
  if (!values.email || !values.password || !values.name) {
    console.error('Usage: create-platform-operator --email <email> --password <password> --name <name>');
    return 2;
  }

  const config = loadConfig({ HMS_DATABASE_URL: env.url('a PostgreSQL URL of the identity app role') });
  const orm = await createOrm({
    clientUrl: config.HMS_DATABASE_URL,
    schema: 'identity',
    entities: identityEntities,
  });
  try {
    const outcome = await createPlatformOperator(orm, new PasswordHasher(), {
      email: values.email,
      password: values.password,
      name: values.name,
    });
    console.log(
      outcome.created
        ? `Created platform operator ${outcome.id}.`
        : `A platform operator with this email already exists (${outcome.id}); nothing was changed.`,
    );
    return 0;
  } finally {
    await orm.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError) console.error(error.message);
    else if (error instanceof HmsError) console.error(error.message);
    else console.error(error);
    process.exitCode = 1;
  },
);
