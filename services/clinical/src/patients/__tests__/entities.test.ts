import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newId } from '@hms/service-kit';
import { startHarness, type ClinicalHarness } from '../../testing/harness.js';
import { adultInput, REGISTER_PATIENT } from '../../testing/fixtures.js';

const ENTITIES = `
  query ($representations: [_Any!]!) {
    _entities(representations: $representations) {
      ... on Patient { id mrn isMinor identifiers { value } guardians { id } }
    }
  }
`;

describe('Patient entity references', () => {
  let harness: ClinicalHarness;
  let statements = 0;
  let token: string;
  const ids: string[] = [];

  before(async () => {
    harness = await startHarness({ onQuery: () => statements++ });
    token = await harness.token(newId());
    for (let index = 0; index < 50; index++) {
      const input = adultInput({
        name: { given: ['Patient'], family: `Batch ${index}` },
        identifiers: [{ type: 'EXTERNAL', system: 'batch', value: `B-${index}` }],
      });
      const { body } = await harness.graphql<{ registerPatient: { id: string } }>(
        REGISTER_PATIENT,
        { input },
        token,
      );
      ids.push(body.data!.registerPatient.id);
    }
  });

  after(async () => {
    await harness?.stop();
  });

  /** Resolves references and returns the result with the number of SQL statements it took. */
  const resolve = async (references: string[]) => {
    const representations = references.map((id) => ({ __typename: 'Patient', id }));
    statements = 0;
    const { body } = await harness.graphql<{ _entities: ({ id: string; mrn: string } | null)[] }>(
      ENTITIES,
      { representations },
      token,
    );
    return { body, statements };
  };

  test('resolves references in order', async () => {
    const { body } = await resolve([ids[3]!, ids[1]!, ids[2]!]);

    assert.deepEqual(
      body.data?._entities.map((patient) => patient?.id),
      [ids[3], ids[1], ids[2]],
    );
  });

  test('query count independent of batch size', async () => {
    const single = await resolve(ids.slice(0, 1));
    const fifty = await resolve(ids);

    assert.equal(fifty.body.data?._entities.length, 50);
    assert.ok(fifty.body.data?._entities.every((patient) => patient !== null));
    assert.ok(single.statements > 0);
    assert.equal(fifty.statements, single.statements);
  });

  test('unknown and foreign ids resolve to null', async () => {
    const otherToken = await harness.token(newId());
    const { body: foreign } = await harness.graphql<{ registerPatient: { id: string } }>(
      REGISTER_PATIENT,
      { input: adultInput() },
      otherToken,
    );

    const { body } = await resolve([ids[0]!, newId(), foreign.data!.registerPatient.id, 'not-a-uuid']);

    assert.equal(body.errors, undefined);
    assert.deepEqual(
      body.data?._entities.map((patient) => patient?.id ?? null),
      [ids[0], null, null, null],
    );
  });
});
