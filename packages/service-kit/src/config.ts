import { z } from 'zod';

/** Raised at start when an environment variable is missing or invalid; the message names each one. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads and validates environment variables against a zod shape whose keys are the variable names.
 * Every problem is reported at once, so a deployment is fixed in one round.
 */
export function loadConfig<Shape extends z.ZodRawShape>(
  shape: Shape,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<z.ZodObject<Shape>> {
  const values: Record<string, unknown> = {};
  for (const name of Object.keys(shape)) {
    const raw = env[name];
    values[name] = raw === '' ? undefined : raw;
  }

  const result = z.object(shape).safeParse(values);
  if (result.success) return result.data;

  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '(unknown)');
    const given = values[name];
    if (given === undefined) return `${name} is missing: ${issue.message}`;
    return `${name} is invalid: ${issue.message}`;
  });
  throw new ConfigError(problems);
}

/** Validators for the kinds of variable HMS services take. */
export const env = {
  url: (description: string) => z.url({ message: `expected ${description} as a URL` }),
  port: () => z.coerce.number().int().min(1).max(65535),
  positiveInt: () => z.coerce.number().int().positive(),
  string: () => z.string().min(1),
  list: () =>
    z
      .string()
      .min(1)
      .transform((value) =>
        value
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean),
      ),
  bool: () => z.enum(['true', 'false']).transform((value) => value === 'true'),
  environment: () => z.enum(['development', 'test', 'production']).default('development'),
};

/**
 * Variables that every subgraph takes. `HMS_JWKS_URL` points at identity's JWKS; issuer and audience
 * must match what identity puts in its tokens.
 */
export const subgraphEnvShape = {
  HMS_ENV: env.environment(),
  HMS_REDIS_URL: env.url('the Redis server (redis://host:port)'),
  HMS_JWKS_URL: env.url("identity's JWKS endpoint"),
  HMS_JWT_ISSUER: env.string(),
  HMS_JWT_AUDIENCE: env.string(),
};
