import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';

/** The layout of .local/demo-credentials.json that frontends and end-to-end checks rely on. */
export interface DemoCredentials {
  gatewayUrl: string;
  platformOperator: { email: string; password: string };
  tenants: DemoTenant[];
}

export interface DemoTenant {
  slug: string;
  name: string;
  users: DemoUser[];
}

export interface DemoUser {
  email: string;
  password: string;
  roles: string[];
}

export function readCredentials(path: string): DemoCredentials | undefined {
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as DemoCredentials;
}

export function writeCredentials(path: string, credentials: DemoCredentials): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
}

/** Creates a random password that satisfies the default tenant password policy (12 characters or more). */
export function newDemoPassword(): string {
  return `Demo-${randomBytes(12).toString('base64url')}`;
}
