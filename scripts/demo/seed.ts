// Creates the demo tenants and their staff through the gateway, as a platform operator and then as
// each tenant's administrator, and writes the sign-in details to the credentials file. Running it again
// keeps existing tenants, users and passwords.
//
// Usage: npx tsx scripts/demo/seed.ts --gateway URL --credentials FILE
// The platform operator must exist already (scripts/start creates it with identity's CLI) and its
// email and password are read from HMS_DEMO_OPERATOR_EMAIL and HMS_DEMO_OPERATOR_PASSWORD.
import { parseArgs } from 'node:util';
import { GraphQLClient } from './graphql-client.js';
import {
  newDemoPassword,
  readCredentials,
  writeCredentials,
  type DemoTenant,
  type DemoUser,
} from './credentials.js';

interface TenantPlan {
  slug: string;
  name: string;
  timeZone: string;
  currency: string;
  staff: { role: string; givenName: string; familyName: string }[];
}

const TENANTS: TenantPlan[] = [
  {
    slug: 'demo-general',
    name: 'Demo General Hospital',
    timeZone: 'Asia/Kolkata',
    currency: 'INR',
    staff: [
      { role: 'doctor', givenName: 'Asha', familyName: 'Rao' },
      { role: 'nurse', givenName: 'Ravi', familyName: 'Menon' },
      { role: 'front_desk', givenName: 'Meera', familyName: 'Iyer' },
    ],
  },
  {
    slug: 'demo-clinic',
    name: 'Demo Family Clinic',
    timeZone: 'Europe/Berlin',
    currency: 'EUR',
    staff: [{ role: 'doctor', givenName: 'Jonas', familyName: 'Weber' }],
  },
];

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(
      `${name} is missing: set it to the platform operator's ${name.endsWith('EMAIL') ? 'email' : 'password'}.`,
    );
  return value;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { gateway: { type: 'string' }, credentials: { type: 'string' } } });
  if (!values.gateway || !values.credentials)
    throw new Error('Usage: seed.ts --gateway URL --credentials FILE');
  const previous = readCredentials(values.credentials);
  const operator = {
    email: requiredEnv('HMS_DEMO_OPERATOR_EMAIL'),
    password: requiredEnv('HMS_DEMO_OPERATOR_PASSWORD'),
  };

  const platform = new GraphQLClient(values.gateway);
  await platform.login(operator);
  const existing = await platform.request<{ tenants: { edges: { node: { slug: string } }[] } }>(
    'query { tenants(first: 100) { edges { node { slug } } } }',
  );
  const existingSlugs = new Set(existing.tenants.edges.map((edge) => edge.node.slug));

  const tenants: DemoTenant[] = [];
  for (const plan of TENANTS) {
    const known = previous?.tenants.find((tenant) => tenant.slug === plan.slug);
    const adminEmail = `admin@${plan.slug}.example`;
    const admin: DemoUser = known?.users.find((user) => user.roles.includes('tenant_admin')) ?? {
      email: adminEmail,
      password: newDemoPassword(),
      roles: ['tenant_admin'],
    };

    if (!existingSlugs.has(plan.slug)) {
      await platform.request(
        'mutation Create($input: CreateTenantInput!) { createTenant(input: $input) { tenant { id } } }',
        {
          input: {
            slug: plan.slug,
            name: plan.name,
            timeZone: plan.timeZone,
            currency: plan.currency,
            admin: { name: `${plan.name} Administrator`, email: admin.email, password: admin.password },
          },
        },
      );
      console.log(`Created tenant ${plan.slug}.`);
    } else if (!known) {
      throw new Error(
        `Tenant ${plan.slug} exists but ${values.credentials} has no passwords for it; remove the database hms or restore the file.`,
      );
    }

    const users: DemoUser[] = [admin];
    const tenantAdmin = new GraphQLClient(values.gateway);
    await tenantAdmin.login({ tenantSlug: plan.slug, email: admin.email, password: admin.password });
    for (const member of plan.staff) {
      const email = `${member.givenName.toLowerCase()}.${member.familyName.toLowerCase()}@${plan.slug}.example`;
      const knownUser = known?.users.find((user) => user.email === email);
      const found = await tenantAdmin.request<{ users: { totalCount: number } }>(
        'query Find($search: String) { users(search: $search, first: 1) { totalCount } }',
        { search: email },
      );
      if (found.users.totalCount > 0 && knownUser) {
        users.push(knownUser);
        continue;
      }
      const password = knownUser?.password ?? newDemoPassword();
      if (found.users.totalCount === 0) {
        await tenantAdmin.request(
          'mutation Create($input: CreateUserInput!) { createUser(input: $input) { id } }',
          {
            input: {
              givenName: member.givenName,
              familyName: member.familyName,
              email,
              password,
              roles: [member.role],
            },
          },
        );
        console.log(`Created ${member.role} ${email} in ${plan.slug}.`);
      } else {
        throw new Error(
          `User ${email} exists in ${plan.slug} but its password is not in ${values.credentials}.`,
        );
      }
      users.push({ email, password, roles: [member.role] });
    }
    tenants.push({ slug: plan.slug, name: plan.name, users });
  }

  writeCredentials(values.credentials, { gatewayUrl: values.gateway, platformOperator: operator, tenants });
  console.log(`Wrote the demo sign-in details to ${values.credentials}.`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
