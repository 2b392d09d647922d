import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { errorCodes } from '@hms/test-kit';
import { startHarness, type ClinicalHarness } from '../../testing/harness.js';
import { invalidFields } from '../../testing/fixtures.js';
import {
  newTenant,
  ok,
  OPEN_ENCOUNTER,
  registerPatient,
  ROLE_PERMISSIONS,
  type TestTenant,
} from '../../encounters/__tests__/support.js';

interface NoteData {
  id: string;
  kind: string;
  status: string;
  version: number;
  text: string | null;
  soap: {
    subjective: string | null;
    objective: string | null;
    assessment: string | null;
    plan: string | null;
  } | null;
  author: { id: string };
  signedBy: { id: string } | null;
  signedAt: string | null;
  amendedBy: { id: string } | null;
  amendedAt: string | null;
  versions: {
    version: number;
    text: string | null;
    writtenBy: { id: string };
    writtenAt: string;
    amendmentReason: string | null;
  }[];
}

const NOTE_FIELDS = `
  id kind status version text author { id } signedBy { id } signedAt amendedBy { id } amendedAt
  soap { subjective objective assessment plan }
  versions { version text writtenBy { id } writtenAt amendmentReason soap { plan } }
`;
const CREATE = `mutation C($input: CreateNoteInput!) { createNote(input: $input) { ${NOTE_FIELDS} } }`;
const UPDATE = `
  mutation U($id: ID!, $content: NoteContentInput!) { updateNoteDraft(id: $id, content: $content) { ${NOTE_FIELDS} } }
`;
const SIGN = `mutation S($id: ID!) { signNote(id: $id) { ${NOTE_FIELDS} } }`;
const AMEND = `
  mutation A($id: ID!, $content: NoteContentInput!, $reason: String!) {
    amendNote(id: $id, content: $content, reason: $reason) { ${NOTE_FIELDS} }
  }
`;
const GET = `query G($id: ID!) { note(id: $id) { ${NOTE_FIELDS} } }`;
const ENCOUNTER_NOTES = `query E($id: ID!) { encounter(id: $id) { id notes { id kind } } }`;

describe('clinical notes', () => {
  let harness: ClinicalHarness;
  let admin: pg.Client;
  let tenant: TestTenant;
  let encounterId: string;

  before(async () => {
    harness = await startHarness();
    admin = new pg.Client({ connectionString: harness.database.adminUrl });
    await admin.connect();
    tenant = await newTenant(harness);
    const patientId = await registerPatient(harness, tenant);
    const data = await ok<{ openEncounter: { id: string } }>(
      harness,
      OPEN_ENCOUNTER,
      { input: { patientId } },
      tenant.tokens.doctor,
    );
    encounterId = data.openEncounter.id;
  });

  after(async () => {
    await admin?.end();
    await harness?.stop();
  });

  const create = async (kind: string, content: Record<string, unknown>, token = tenant.tokens.doctor) =>
    (await ok<{ createNote: NoteData }>(harness, CREATE, { input: { encounterId, kind, content } }, token))
      .createNote;

  test('SOAP note draft, edit and sign', async () => {
    const note = await create('SOAP', { soap: { subjective: 'Headache', plan: 'Rest' } });
    assert.equal(note.status, 'DRAFT');
    assert.equal(note.author.id, tenant.userIds.doctor);
    assert.equal(note.soap?.objective, null);

    const edited = await ok<{ updateNoteDraft: NoteData }>(
      harness,
      UPDATE,
      {
        id: note.id,
        content: { soap: { subjective: 'Headache', assessment: 'Tension headache', plan: 'Rest' } },
      },
      tenant.tokens.doctor,
    );
    assert.equal(edited.updateNoteDraft.soap?.assessment, 'Tension headache');
    assert.equal(edited.updateNoteDraft.versions.length, 1);

    const signed = await ok<{ signNote: NoteData }>(harness, SIGN, { id: note.id }, tenant.tokens.doctor);
    assert.equal(signed.signNote.status, 'SIGNED');
    assert.equal(signed.signNote.signedBy?.id, tenant.userIds.doctor);
  });

  test('signed note amended keeps the original', async () => {
    const note = await create('PROGRESS', { text: 'Stable overnight' });
    await ok(harness, SIGN, { id: note.id }, tenant.tokens.doctor);

    const { body: edit } = await harness.graphql(
      UPDATE,
      { id: note.id, content: { text: 'Rewritten' } },
      tenant.tokens.doctor,
    );
    assert.deepEqual(errorCodes(edit), ['CONFLICT']);

    const amended = await ok<{ amendNote: NoteData }>(
      harness,
      AMEND,
      { id: note.id, content: { text: 'Stable overnight. Febrile at 04:00' }, reason: 'Late entry' },
      tenant.tokens.doctor,
    );
    const result = amended.amendNote;
    assert.equal(result.version, 2);
    assert.equal(result.text, 'Stable overnight. Febrile at 04:00');
    assert.deepEqual(
      result.versions.map((version) => [version.version, version.text, version.amendmentReason]),
      [
        [1, 'Stable overnight', null],
        [2, 'Stable overnight. Febrile at 04:00', 'Late entry'],
      ],
    );
  });

  test('amendment keeps omitted SOAP sections', async () => {
    const note = await create('SOAP', {
      soap: { subjective: 'Cough', objective: 'Crackles', assessment: 'Pneumonia', plan: 'Amoxicillin' },
    });
    const signed = await ok<{ signNote: NoteData }>(harness, SIGN, { id: note.id }, tenant.tokens.doctor);
    assert.equal(signed.signNote.amendedBy, null);
    assert.equal(signed.signNote.amendedAt, null);

    const amended = await ok<{ amendNote: NoteData }>(
      harness,
      AMEND,
      { id: note.id, content: { soap: { plan: 'Doxycycline', assessment: null } }, reason: 'Allergy found' },
      tenant.tokens.doctor,
    );

    const result = amended.amendNote;
    assert.deepEqual(result.soap, {
      subjective: 'Cough',
      objective: 'Crackles',
      assessment: null,
      plan: 'Doxycycline',
    });
    assert.equal(result.signedBy?.id, tenant.userIds.doctor);
    assert.equal(result.signedAt, signed.signNote.signedAt);
    assert.equal(result.amendedBy?.id, tenant.userIds.doctor);
    assert.equal(result.amendedAt, result.versions[1]!.writtenAt);
  });

  test('only the author amends a signed note', async () => {
    const note = await create('PROGRESS', { text: 'Stable' });
    await ok(harness, SIGN, { id: note.id }, tenant.tokens.doctor);
    const otherDoctor = await harness.issuer.sign({
      tid: tenant.tenantId,
      sub: randomUUID(),
      roles: ['doctor'],
      perms: [...ROLE_PERMISSIONS.doctor],
    });

    const { body } = await harness.graphql(
      AMEND,
      { id: note.id, content: { text: 'Rewritten by a colleague' }, reason: 'Disagree' },
      otherDoctor,
    );
    const after = await ok<{ note: NoteData }>(harness, GET, { id: note.id }, tenant.tokens.doctor);

    assert.deepEqual(errorCodes(body), ['FORBIDDEN']);
    assert.equal(after.note.version, 1);
    assert.equal(after.note.text, 'Stable');
  });

  test('draft cannot be amended', async () => {
    const note = await create('PROGRESS', { text: 'Draft' });

    const { body } = await harness.graphql(
      AMEND,
      { id: note.id, content: { text: 'x' }, reason: 'y' },
      tenant.tokens.doctor,
    );

    assert.deepEqual(errorCodes(body), ['CONFLICT']);
  });

  test('only the author signs a draft', async () => {
    const note = await create('NURSING', { text: 'Turned patient' }, tenant.tokens.nurse);

    const { body } = await harness.graphql(SIGN, { id: note.id }, tenant.tokens.doctor);

    assert.deepEqual(errorCodes(body), ['FORBIDDEN']);
  });

  test('nurse writes only NURSING notes', async () => {
    const nursing = await create('NURSING', { text: 'Fluids given' }, tenant.tokens.nurse);
    assert.equal(nursing.kind, 'NURSING');
    await ok(harness, SIGN, { id: nursing.id }, tenant.tokens.nurse);

    const { body: progress } = await harness.graphql(
      CREATE,
      { input: { encounterId, kind: 'PROGRESS', content: { text: 'x' } } },
      tenant.tokens.nurse,
    );
    assert.deepEqual(errorCodes(progress), ['FORBIDDEN']);

    const doctorsNote = await create('PROGRESS', { text: 'Doctor' });
    await ok(harness, SIGN, { id: doctorsNote.id }, tenant.tokens.doctor);
    const { body: amend } = await harness.graphql(
      AMEND,
      { id: doctorsNote.id, content: { text: 'Changed by a nurse' }, reason: 'Typo' },
      tenant.tokens.nurse,
    );
    assert.deepEqual(errorCodes(amend), ['FORBIDDEN']);
  });

  test('front desk cannot read notes', async () => {
    const note = await create('PROGRESS', { text: 'Private' });

    const { body: single } = await harness.graphql(GET, { id: note.id }, tenant.tokens.front_desk);
    const { body: viaEncounter } = await harness.graphql(
      ENCOUNTER_NOTES,
      { id: encounterId },
      tenant.tokens.front_desk,
    );
    const { body: created } = await harness.graphql(
      CREATE,
      { input: { encounterId, kind: 'NURSING', content: { text: 'x' } } },
      tenant.tokens.front_desk,
    );

    assert.deepEqual(errorCodes(single), ['FORBIDDEN']);
    assert.deepEqual(errorCodes(viaEncounter), ['FORBIDDEN']);
    assert.deepEqual(errorCodes(created), ['FORBIDDEN']);
  });

  test('nurse reads notes of the encounter', async () => {
    const data = await ok<{ encounter: { notes: { kind: string }[] } }>(
      harness,
      ENCOUNTER_NOTES,
      { id: encounterId },
      tenant.tokens.nurse,
    );

    assert.ok(data.encounter.notes.length > 0);
  });

  test('content rules name fields', async () => {
    const cases: [string, Record<string, unknown>, string[]][] = [
      ['SOAP', { text: 'free text' }, ['input.content.soap']],
      ['PROGRESS', { text: 'x', soap: { plan: 'y' } }, ['input.content']],
      ['PROGRESS', {}, ['input.content.text']],
      ['PROGRESS', { soap: { plan: '  ' } }, ['input.content.soap']],
      ['PROGRESS', { text: 'bad \u0007 bell' }, ['input.content.text']],
    ];
    for (const [kind, content, fields] of cases) {
      const { body } = await harness.graphql(
        CREATE,
        { input: { encounterId, kind, content } },
        tenant.tokens.doctor,
      );
      assert.deepEqual(errorCodes(body), ['BAD_USER_INPUT'], JSON.stringify(content));
      assert.deepEqual(invalidFields(body), fields, JSON.stringify(content));
    }
  });

  test('database rejects changing a signed version', async () => {
    const note = await create('PROGRESS', { text: 'Final words' });
    await ok(harness, SIGN, { id: note.id }, tenant.tokens.doctor);

    const client = new pg.Client({ connectionString: harness.database.appUrl });
    await client.connect();
    try {
      await client.query('begin');
      await client.query("select set_config('app.tenant_id', $1, true)", [tenant.tenantId]);
      await assert.rejects(
        client.query("update clinical.note_versions set text = 'overwritten' where note_id = $1", [note.id]),
        (error: { code?: string }) => error.code === '55000',
      );
      await client.query('rollback');
      await client.query('begin');
      await client.query("select set_config('app.tenant_id', $1, true)", [tenant.tenantId]);
      await assert.rejects(
        client.query('delete from clinical.note_versions where note_id = $1', [note.id]),
        (error: { code?: string }) => error.code === '55000',
      );
      await client.query('rollback');
    } finally {
      await client.end();
    }

    // The owner is rejected too, because the trigger does not depend on the role.
    await assert.rejects(
      admin.query("update clinical.note_versions set text = 'overwritten' where note_id = $1", [note.id]),
      (error: { code?: string }) => error.code === '55000',
    );
    const stored = await ok<{ note: NoteData }>(harness, GET, { id: note.id }, tenant.tokens.doctor);
    assert.equal(stored.note.text, 'Final words');
  });

  test('notes of a cancelled encounter rejected', async () => {
    const patientId = await registerPatient(harness, tenant);
    const data = await ok<{ openEncounter: { id: string } }>(
      harness,
      OPEN_ENCOUNTER,
      { input: { patientId } },
      tenant.tokens.doctor,
    );
    await ok(
      harness,
      'mutation ($id: ID!) { cancelEncounter(id: $id, reason: "No show") { id } }',
      { id: data.openEncounter.id },
      tenant.tokens.doctor,
    );

    const { body } = await harness.graphql(
      CREATE,
      { input: { encounterId: data.openEncounter.id, kind: 'PROGRESS', content: { text: 'x' } } },
      tenant.tokens.doctor,
    );

    assert.deepEqual(errorCodes(body), ['CONFLICT']);
  });
});
