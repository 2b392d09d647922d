// Imports a real Synthea bundle with its clinical history through the real
// gateway, identity and clinical services, twice, and reads the records back.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { COUNT_KEYS, IMPORT_WARD_CODE } from '../fhir-import/history-import.js';
import { importFhir, type ImportOptions } from '../fhir-import/import.js';
import { ensureImportUser } from '../fhir-import/import-user.js';
import { startSystem, type System } from './harness.js';

const ERNESTO_FILE = fileURLToPath(
  new URL(
    '../fhir-import/history-fixtures/Ernesto186_Hudson301_f328481a-382e-8e88-7b88-6b49d8ca2b11.json',
    import.meta.url,
  ),
);
const MARQUIS_FILE = fileURLToPath(
  new URL(
    '../fhir-import/history-fixtures/Marquis364_Gleichner915_2b1f67b4-0f8f-36e2-9eee-b6655efdfc0a.json',
    import.meta.url,
  ),
);
const ERNESTO_ID = 'f328481a-382e-8e88-7b88-6b49d8ca2b11';
const STAY_SOURCE_ID = 'synthea:Encounter/0c22559c-8736-0a19-cc3a-a6b809323f47';

const LOGIN = `mutation ($input: LoginInput!) { login(input: $input) { accessToken } }`;
const HISTORY = `query ($system: String!, $value: String!) {
  patientByIdentifier(system: $system, value: $value) {
    id
    encounters(first: 100) {
      totalCount
      edges { node { id class status sourceId startedAt endedAt diagnoses { sourceId codeSystem }
        admission { ward { code } bed { code } admittedAt dischargedAt } } }
    }
    problems { sourceId status encounterId resolvedAt }
    allergies { sourceId category }
    prescriptions { sourceId status encounterId }
    vitalSigns(first: 100) { totalCount edges { node { encounterId kind } } }
  }
}`;

interface HistoryView {
  patientByIdentifier: {
    encounters: {
      totalCount: number;
      edges: {
        node: {
          id: string;
          class: string;
          status: string;
          sourceId: string;
          diagnoses: { sourceId: string; codeSystem: string }[];
          admission: { ward: { code: string }; bed: { code: string } | null; dischargedAt: string } | null;
        };
      }[];
    };
    problems: { sourceId: string; status: string; encounterId: string | null; resolvedAt: string | null }[];
    allergies: { sourceId: string; category: string }[];
    prescriptions: { sourceId: string; status: string; encounterId: string | null }[];
    vitalSigns: { totalCount: number; edges: { node: { encounterId: string | null; kind: string } }[] };
  };
}

let system: System;

before(async () => {
  system = await startSystem();
});

after(async () => {
  await system?.stop();
});

test('imports the clinical history once and links it to its encounters', async () => {
  const tenant = await system.identity.createTenant();
  const importUser = await ensureImportUser({
    gatewayUrl: system.gatewayUrl,
    tenantSlug: tenant.slug,
    email: tenant.adminEmail,
    password: tenant.adminPassword,
  });
  const lines: string[] = [];
  const options: ImportOptions = {
    gatewayUrl: system.gatewayUrl,
    tenantSlug: tenant.slug,
    email: importUser.email,
    password: importUser.password,
    paths: [ERNESTO_FILE],
    log: (line) => lines.push(line),
  };

  const first = await importFhir(options);
  const second = await importFhir(options);

  assert.equal(first.created, 1, JSON.stringify(first.failures));
  for (const key of COUNT_KEYS) {
    const counts = first.resources[key];
    assert.equal(
      counts?.failed,
      0,
      `${key}: ${lines.filter((line) => line.startsWith('failed')).join('\n')}`,
    );
    assert.equal(second.resources[key]?.created, 0, key);
    assert.equal(second.resources[key]?.alreadyImported, counts?.created, key);
  }
  assert.equal(first.resources.Encounter?.created, 22);
  assert.equal(first.resources.AllergyIntolerance?.created, 8);
  assert.equal(first.resources.Condition?.created, 21);
  assert.ok((first.resources.Observation?.created ?? 0) > 0);

  const session = await system.gateway<{ login: { accessToken: string } }>(LOGIN, {
    input: { tenantSlug: tenant.slug, email: importUser.email, password: importUser.password },
  });
  const token = session.body.data?.login.accessToken;
  assert.ok(token);
  const response = await system.gateway<HistoryView>(
    HISTORY,
    { system: 'https://github.com/synthetichealth/synthea', value: ERNESTO_ID },
    token,
  );
  assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
  const patient = response.body.data?.patientByIdentifier;
  assert.ok(patient);

  const encounters = patient.encounters.edges.map((edge) => edge.node);
  assert.equal(patient.encounters.totalCount, 22);
  assert.ok(encounters.every((encounter) => encounter.status === 'CLOSED'));
  const stay = encounters.find((encounter) => encounter.sourceId === STAY_SOURCE_ID);
  assert.equal(stay?.class, 'INPATIENT');
  assert.equal(stay?.admission?.ward.code, IMPORT_WARD_CODE);
  assert.ok(stay?.admission?.dischargedAt);
  assert.equal(encounters.filter((encounter) => encounter.class === 'EMERGENCY').length, 1);

  const encounterIds = new Set(encounters.map((encounter) => encounter.id));
  const diagnoses = encounters.flatMap((encounter) => encounter.diagnoses);
  assert.equal(diagnoses.length, first.resources['Condition (encounter diagnosis)']?.created);
  assert.equal(patient.problems.length, 21);
  assert.ok(
    patient.problems.every((problem) => problem.encounterId && encounterIds.has(problem.encounterId)),
  );
  assert.ok(patient.problems.some((problem) => problem.status === 'RESOLVED' && problem.resolvedAt));
  assert.equal(patient.allergies.length, 8);
  assert.ok(
    patient.vitalSigns.edges.every(
      (edge) => edge.node.encounterId && encounterIds.has(edge.node.encounterId),
    ),
  );
});

test('imports prescriptions without rejections', async () => {
  const tenant = await system.identity.createTenant();
  const importUser = await ensureImportUser({
    gatewayUrl: system.gatewayUrl,
    tenantSlug: tenant.slug,
    email: tenant.adminEmail,
    password: tenant.adminPassword,
  });
  const lines: string[] = [];

  const summary = await importFhir({
    gatewayUrl: system.gatewayUrl,
    tenantSlug: tenant.slug,
    email: importUser.email,
    password: importUser.password,
    paths: [MARQUIS_FILE],
    log: (line) => lines.push(line),
  });

  const failures = lines.filter((line) => line.startsWith('failed')).join('\n');
  for (const key of COUNT_KEYS) assert.equal(summary.resources[key]?.failed, 0, `${key}: ${failures}`);
  const prescriptions = summary.resources.MedicationRequest;
  assert.ok((prescriptions?.created ?? 0) > 0);
  const rejected = Object.keys(prescriptions?.skippedReasons ?? {}).filter((reason) =>
    reason.startsWith('rejected by the API'),
  );
  assert.deepEqual(rejected, [], lines.filter((line) => line.includes('MedicationRequest/')).join('\n'));
});

test('import user set up twice keeps its permissions', async () => {
  const tenant = await system.identity.createTenant();
  const admin = {
    gatewayUrl: system.gatewayUrl,
    tenantSlug: tenant.slug,
    email: tenant.adminEmail,
    password: tenant.adminPassword,
  };
  await ensureImportUser(admin);

  // The second set-up resets the existing user's password, which the user must then change.
  const again = await ensureImportUser(admin);
  const response = await fetch(system.gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: LOGIN,
      variables: { input: { tenantSlug: tenant.slug, email: again.email, password: again.password } },
    }),
  });
  const body = (await response.json()) as { data?: { login: { accessToken: string } } };
  const token = body.data?.login.accessToken ?? '';
  const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
    perms?: string[];
  };

  assert.ok(claims.perms?.includes('patient:read'));
  assert.ok(claims.perms?.includes('encounter:write'));
});
