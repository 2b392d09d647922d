import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { errorCodes } from '@hms/test-kit';
import { startHarness, type ClinicalHarness } from '../../testing/harness.js';
import { invalidFields } from '../../testing/fixtures.js';
import {
  admit,
  createWard,
  firstError,
  newTenant,
  ok,
  OPEN_ENCOUNTER,
  registerPatient,
  ROLE_PERMISSIONS,
  type TestTenant,
} from '../../encounters/__tests__/support.js';

interface SummaryData {
  id: string;
  status: string;
  version: number;
  hospitalCourse: string | null;
  medicationsOnDischarge: string[];
  followUp: string | null;
  procedures: { text: string }[];
  signedBy: { id: string } | null;
  amendedBy: { id: string } | null;
  amendedAt: string | null;
  diagnoses: { codeSystem: string | null; code: string | null; text: string }[];
  versions: {
    version: number;
    hospitalCourse: string | null;
    amendmentReason: string | null;
    writtenBy: { id: string };
    writtenAt: string;
  }[];
}

const FIELDS = `
  id status version hospitalCourse medicationsOnDischarge followUp author { id } signedBy { id }
  amendedBy { id } amendedAt
  diagnoses { codeSystem code text } procedures { text }
  versions { version hospitalCourse amendmentReason writtenBy { id } writtenAt }
`;
const CREATE = `
  mutation C($encounterId: ID!, $content: DischargeSummaryContentInput!) {
    createDischargeSummary(encounterId: $encounterId, content: $content) { ${FIELDS} }
  }
`;
const UPDATE = `
  mutation U($id: ID!, $content: DischargeSummaryContentInput!) {
    updateDischargeSummaryDraft(id: $id, content: $content) { ${FIELDS} }
  }
`;
const SIGN = `mutation S($id: ID!) { signDischargeSummary(id: $id) { ${FIELDS} } }`;
const AMEND = `
  mutation A($id: ID!, $content: DischargeSummaryContentInput!, $reason: String!) {
    amendDischargeSummary(id: $id, content: $content, reason: $reason) { ${FIELDS} }
  }
`;
const VIA_ENCOUNTER = `query E($id: ID!) { encounter(id: $id) { dischargeSummary { id status version } } }`;

const CONTENT = {
  diagnoses: [{ codeSystem: 'ICD10', code: 'J18.9', text: 'Pneumonia' }],
  procedures: [{ text: 'Chest X-ray' }],
  hospitalCourse: 'Treated with antibiotics. Improved.',
  medicationsOnDischarge: ['Amoxicillin 500 mg three times daily for 5 days'],
  followUp: 'Clinic in one week',
};

describe('discharge summaries', () => {
  let harness: ClinicalHarness;
  let tenant: TestTenant;

  before(async () => {
    harness = await startHarness();
    tenant = await newTenant(harness);
  });

  after(async () => {
    await harness?.stop();
  });

  const stay = async () => {
    const ward = await createWard(harness, tenant, ['1']);
    return admit(harness, tenant, await registerPatient(harness, tenant), ward.beds['1']!);
  };

  test('colleague amendment keeps omitted fields', async () => {
    const encounterId = await stay();
    const created = await ok<{ createDischargeSummary: SummaryData }>(
      harness,
      CREATE,
      { encounterId, content: CONTENT },
      tenant.tokens.doctor,
    );
    const id = created.createDischargeSummary.id;
    const signed = await ok<{ signDischargeSummary: SummaryData }>(
      harness,
      SIGN,
      { id },
      tenant.tokens.doctor,
    );
    assert.equal(signed.signDischargeSummary.amendedBy, null);
    const colleagueId = randomUUID();
    const colleague = await harness.issuer.sign({
      tid: tenant.tenantId,
      sub: colleagueId,
      roles: ['doctor'],
      perms: [...ROLE_PERMISSIONS.doctor],
    });

    const amended = await ok<{ amendDischargeSummary: SummaryData }>(
      harness,
      AMEND,
      { id, content: { followUp: 'Clinic in two weeks', procedures: null }, reason: 'Follow-up moved' },
      colleague,
    );

    const result = amended.amendDischargeSummary;
    assert.equal(result.followUp, 'Clinic in two weeks');
    assert.equal(result.hospitalCourse, CONTENT.hospitalCourse);
    assert.deepEqual(result.medicationsOnDischarge, CONTENT.medicationsOnDischarge);
    assert.deepEqual(result.diagnoses, CONTENT.diagnoses);
    assert.deepEqual(result.procedures, []);
    assert.equal(result.signedBy?.id, tenant.userIds.doctor);
    assert.equal(result.amendedBy?.id, colleagueId);
    assert.equal(result.amendedAt, result.versions[1]!.writtenAt);
  });

  test('draft, sign and amend', async () => {
    const encounterId = await stay();
    const created = await ok<{ createDischargeSummary: SummaryData }>(
      harness,
      CREATE,
      { encounterId, content: CONTENT },
      tenant.tokens.doctor,
    );
    const summary = created.createDischargeSummary;
    assert.equal(summary.status, 'DRAFT');
    assert.deepEqual(summary.diagnoses, [{ codeSystem: 'ICD10', code: 'J18.9', text: 'Pneumonia' }]);

    const edited = await ok<{ updateDischargeSummaryDraft: SummaryData }>(
      harness,
      UPDATE,
      { id: summary.id, content: { ...CONTENT, hospitalCourse: 'Antibiotics for 3 days.' } },
      tenant.tokens.doctor,
    );
    assert.equal(edited.updateDischargeSummaryDraft.hospitalCourse, 'Antibiotics for 3 days.');

    const signed = await ok<{ signDischargeSummary: SummaryData }>(
      harness,
      SIGN,
      { id: summary.id },
      tenant.tokens.doctor,
    );
    assert.equal(signed.signDischargeSummary.status, 'SIGNED');

    const { body: overwrite } = await harness.graphql(
      UPDATE,
      { id: summary.id, content: CONTENT },
      tenant.tokens.doctor,
    );
    assert.deepEqual(errorCodes(overwrite), ['CONFLICT']);

    const amended = await ok<{ amendDischargeSummary: SummaryData }>(
      harness,
      AMEND,
      {
        id: summary.id,
        content: { ...CONTENT, followUp: 'Clinic in two weeks' },
        reason: 'Follow-up date changed',
      },
      tenant.tokens.doctor,
    );
    assert.equal(amended.amendDischargeSummary.version, 2);
    assert.deepEqual(
      amended.amendDischargeSummary.versions.map((version) => [
        version.version,
        version.hospitalCourse,
        version.amendmentReason,
      ]),
      [
        [1, 'Antibiotics for 3 days.', null],
        [2, 'Treated with antibiotics. Improved.', 'Follow-up date changed'],
      ],
    );
    const read = await ok<{ encounter: { dischargeSummary: { version: number } } }>(
      harness,
      VIA_ENCOUNTER,
      { id: encounterId },
      tenant.tokens.nurse,
    );
    assert.equal(read.encounter.dischargeSummary.version, 2);
  });

  test('second summary CONFLICT with existingId', async () => {
    const encounterId = await stay();
    const first = await ok<{ createDischargeSummary: { id: string } }>(
      harness,
      CREATE,
      { encounterId, content: CONTENT },
      tenant.tokens.doctor,
    );

    const { body } = await harness.graphql(CREATE, { encounterId, content: CONTENT }, tenant.tokens.doctor);

    assert.deepEqual(errorCodes(body), ['CONFLICT']);
    assert.equal(firstError(body).existingId, first.createDischargeSummary.id);
  });

  test('OPD encounter has no summary', async () => {
    const patientId = await registerPatient(harness, tenant);
    const opened = await ok<{ openEncounter: { id: string } }>(
      harness,
      OPEN_ENCOUNTER,
      { input: { patientId } },
      tenant.tokens.doctor,
    );

    const { body } = await harness.graphql(
      CREATE,
      { encounterId: opened.openEncounter.id, content: CONTENT },
      tenant.tokens.doctor,
    );

    assert.deepEqual(errorCodes(body), ['CONFLICT']);
  });

  test('nurse cannot write summaries', async () => {
    const encounterId = await stay();

    const { body } = await harness.graphql(CREATE, { encounterId, content: CONTENT }, tenant.tokens.nurse);

    assert.deepEqual(errorCodes(body), ['FORBIDDEN']);
  });

  test('bad content names fields', async () => {
    const encounterId = await stay();

    const { body: empty } = await harness.graphql(CREATE, { encounterId, content: {} }, tenant.tokens.doctor);
    const { body: coded } = await harness.graphql(
      CREATE,
      {
        encounterId,
        content: {
          procedures: [{ codeSystem: 'SNOMED_CT', code: 'abc', text: 'X' }],
          medicationsOnDischarge: [''],
        },
      },
      tenant.tokens.doctor,
    );

    assert.deepEqual(invalidFields(empty), ['content']);
    assert.deepEqual(invalidFields(coded).sort(), [
      'content.medicationsOnDischarge[0]',
      'content.procedures[0].code',
    ]);
  });

  test('database rejects changing a signed summary', async () => {
    const encounterId = await stay();
    const created = await ok<{ createDischargeSummary: { id: string } }>(
      harness,
      CREATE,
      { encounterId, content: CONTENT },
      tenant.tokens.doctor,
    );
    await ok(harness, SIGN, { id: created.createDischargeSummary.id }, tenant.tokens.doctor);

    const admin = new pg.Client({ connectionString: harness.database.adminUrl });
    await admin.connect();
    try {
      await assert.rejects(
        admin.query(`update clinical.discharge_summary_versions set content = '{}' where summary_id = $1`, [
          created.createDischargeSummary.id,
        ]),
        (error: { code?: string }) => error.code === '55000',
      );
      await assert.rejects(
        admin.query('delete from clinical.discharge_summary_versions where summary_id = $1', [
          created.createDischargeSummary.id,
        ]),
        (error: { code?: string }) => error.code === '55000',
      );
    } finally {
      await admin.end();
    }
  });
});
