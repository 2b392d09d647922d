import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { randomSuffix, startSystem, type System } from './harness.js';
import { GOOD_PASSWORD } from '../../services/identity/src/testing/harness.js';

interface FieldError {
  field: string;
  message: string;
}

let system: System;
let token: string;

before(async () => {
  system = await startSystem();
  const operator = await system.identity.operatorToken();
  const slug = `e2e-${randomSuffix()}`;
  const adminEmail = `admin.${randomSuffix()}@example.org`;
  const created = await system.gateway(
    'mutation ($input: CreateTenantInput!) { createTenant(input: $input) { tenant { id } } }',
    {
      input: {
        slug,
        name: `E2E ${slug}`,
        timeZone: 'Asia/Kolkata',
        currency: 'INR',
        admin: { name: 'Admin', email: adminEmail, password: GOOD_PASSWORD },
      },
    },
    operator,
  );
  assert.equal(created.body.errors, undefined, JSON.stringify(created.body.errors));
  const login = await system.gateway<{ login: { accessToken: string } }>(
    'mutation ($input: LoginInput!) { login(input: $input) { accessToken } }',
    { input: { tenantSlug: slug, email: adminEmail, password: GOOD_PASSWORD } },
  );
  assert.equal(login.body.errors, undefined, JSON.stringify(login.body.errors));
  token = login.body.data!.login.accessToken;
});

after(async () => {
  await system?.stop();
});

/** Checks that a response rejects exactly one input as BAD_USER_INPUT, naming `field`, and leaks nothing internal. */
function assertInvalidInput(
  response: {
    status: number;
    body: { errors?: readonly { message: string; extensions?: Record<string, unknown> }[] };
  },
  field: string,
  reason: RegExp,
): void {
  const text = JSON.stringify(response.body);
  assert.equal(response.body.errors?.length, 1, text);
  const error = response.body.errors[0]!;
  assert.equal(error.extensions?.code, 'BAD_USER_INPUT', text);
  const fields = error.extensions?.fields as FieldError[] | undefined;
  assert.equal(fields?.length, 1, text);
  assert.equal(fields[0]!.field, field, text);
  assert.match(fields[0]!.message, reason, text);
  assert.match(error.message, new RegExp(field.replaceAll('.', '\\.')), text);
  assert.doesNotMatch(text, /127\.0\.0\.1|"response"|400: Bad Request/, text);
}

describe('invalid scalar literals in the query text', () => {
  test('LocalDate literal through the gateway (scheduling)', async () => {
    const response = await system.gateway(
      `{ practitionerDay(practitionerId: "${randomUUID()}", date: "2026-02-30") { date } }`,
      {},
      token,
    );
    assertInvalidInput(response, 'practitionerDay.date', /LocalDate must be a calendar date.*2026-02-30/);
  });

  test('LocalDate literal in an input object through the gateway (clinical)', async () => {
    const response = await system.gateway(
      `mutation { registerPatient(input: { name: { given: ["Asha"], family: "Rao" }, sex: FEMALE,
        birthDate: "2026-02-30", phone: "+919812345678" }) { id } }`,
      {},
      token,
    );
    assertInvalidInput(response, 'registerPatient.input.birthDate', /LocalDate must be a calendar date/);
  });

  test('DateTime literal through the gateway (clinical)', async () => {
    for (const endedAt of ['yesterday', '2026-02-30T10:00:00Z', '2026-02-10T24:00:00Z']) {
      const response = await system.gateway(
        `mutation { closeEncounter(id: "${randomUUID()}", endedAt: "${endedAt}") { id } }`,
        {},
        token,
      );
      assertInvalidInput(response, 'closeEncounter.endedAt', new RegExp(`DateTime.*${endedAt}`));
    }
  });

  test('DateTime variable through the gateway (clinical)', async () => {
    const response = await system.gateway(
      'mutation ($endedAt: DateTime) { closeEncounter(id: "00000000-0000-4000-8000-000000000000", endedAt: $endedAt) { id } }',
      { endedAt: '2026-02-30T10:00:00Z' },
      token,
    );
    const text = JSON.stringify(response.body);
    assert.equal(response.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', text);
    assert.match(response.body.errors?.[0]?.message ?? '', /\$endedAt.*not a real date and time/, text);
  });

  test('LocalDate literal sent to the subgraph directly', async () => {
    const response = await system.clinical(
      `mutation { registerPatient(input: { name: { given: ["Asha"], family: "Rao" }, sex: FEMALE,
        birthDate: "2026-02-30", phone: "+919812345678" }) { id } }`,
      {},
      token,
    );
    assert.equal(response.status, 200);
    assertInvalidInput(response, 'registerPatient.input.birthDate', /LocalDate must be a calendar date/);
  });

  test('other validation errors stay GRAPHQL_VALIDATION_FAILED', async () => {
    const response = await system.clinical(`{ patient(id: "${randomUUID()}") { noSuchField } }`, {}, token);
    assert.equal(response.status, 400);
    assert.equal(response.body.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
  });

  test('LocalDate variable through the gateway', async () => {
    const response = await system.gateway(
      'query ($date: LocalDate!) { practitionerDay(practitionerId: "00000000-0000-4000-8000-000000000000", date: $date) { date } }',
      { date: '2026-02-30' },
      token,
    );
    const text = JSON.stringify(response.body);
    assert.equal(response.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', text);
    assert.match(response.body.errors?.[0]?.message ?? '', /\$date/, text);
  });
});
