import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newId } from '@hms/service-kit';
import { errorCodes } from '@hms/test-kit';
import { startHarness, type ClinicalHarness } from '../../testing/harness.js';
import { adultInput, REGISTER_PATIENT, SEARCH_PATIENTS } from '../../testing/fixtures.js';
import type { RegisterPatientInput } from '../inputs.js';

interface SearchResult {
  patients: {
    totalCount: number;
    pageInfo: {
      hasNextPage: boolean;
      hasPreviousPage: boolean;
      startCursor: string | null;
      endCursor: string | null;
    };
    edges: {
      cursor: string;
      node: { id: string; mrn: string; phone: string | null; name: { given: string[]; family: string } };
    }[];
  };
}

/** Registered in this order, so MRNs follow it: García is MRN-000001, Smith MRN-000005. */
const PEOPLE: Partial<RegisterPatientInput>[] = [
  { name: { given: ['José', 'Luis'], family: 'García' }, phone: '+34 612 345 678' },
  { name: { given: ['Anna'], family: 'Müller' }, phone: '+49 30 1234567' },
  { name: { given: ['Jose'], family: 'Pérez' } },
  { name: { given: ['Zoë'], family: "O'Brien" }, phone: '+1 415 555 0134' },
  { name: { given: ['John'], family: 'Smith' } },
];

describe('patients search', () => {
  let harness: ClinicalHarness;
  let token: string;

  const search = async (variables: Record<string, unknown>) =>
    (await harness.graphql<SearchResult>(SEARCH_PATIENTS, variables, token)).body;
  const familiesFor = async (text: string) =>
    (await search({ search: text })).data?.patients.edges.map((edge) => edge.node.name.family);

  before(async () => {
    harness = await startHarness();
    token = await harness.token(newId());
    for (const person of PEOPLE) {
      const { body } = await harness.graphql(REGISTER_PATIENT, { input: adultInput(person) }, token);
      assert.equal(body.errors, undefined);
    }
  });

  after(async () => {
    await harness?.stop();
  });

  test('finds by family name fragment', async () => {
    assert.deepEqual(await familiesFor('arcí'), ['García']);
  });

  test('finds by given name', async () => {
    assert.deepEqual(await familiesFor('luis'), ['García']);
  });

  test('ignores accents', async () => {
    assert.deepEqual(await familiesFor('jose'), ['García', 'Pérez']);
  });

  test('ignores case', async () => {
    assert.deepEqual(await familiesFor('MÜLLER'), ['Müller']);
    assert.deepEqual(await familiesFor('muller'), ['Müller']);
  });

  test('requires every word', async () => {
    assert.deepEqual(await familiesFor('Jose Garcia'), ['García']);
  });

  test('ignores apostrophes', async () => {
    assert.deepEqual(await familiesFor('obrien'), ["O'Brien"]);
    assert.deepEqual(await familiesFor("zoe o'brien"), ["O'Brien"]);
  });

  test('finds international phone prefix', async () => {
    assert.deepEqual(await familiesFor('+34 612 345'), ['García']);
    assert.deepEqual(await familiesFor('+49301234567'), ['Müller']);
  });

  test('finds phone digits without plus', async () => {
    assert.deepEqual(await familiesFor('612 345 678'), ['García']);
    assert.deepEqual(await familiesFor('(415) 555-0134'), ["O'Brien"]);
  });

  test('finds exact MRN', async () => {
    assert.deepEqual(await familiesFor('MRN-000002'), ['Müller']);
    assert.deepEqual(await familiesFor('mrn000002'), ['Müller']);
  });

  test('finds MRN prefix', async () => {
    assert.equal((await search({ search: 'MRN-00000' })).data?.patients.totalCount, 5);
  });

  test('matches wildcards literally', async () => {
    assert.deepEqual(await familiesFor('%'), []);
    assert.deepEqual(await familiesFor('_'), []);
  });

  test('lists all without search', async () => {
    const body = await search({});

    assert.equal(body.data?.patients.totalCount, 5);
    assert.deepEqual(
      body.data?.patients.edges.map((edge) => edge.node.name.family),
      ['García', 'Müller', "O'Brien", 'Pérez', 'Smith'],
    );
  });

  test('pages with cursors', async () => {
    const first = await search({ first: 2 });
    assert.equal(first.data?.patients.totalCount, 5);
    assert.deepEqual(
      first.data?.patients.edges.map((edge) => edge.node.name.family),
      ['García', 'Müller'],
    );
    assert.equal(first.data?.patients.pageInfo.hasNextPage, true);
    assert.equal(first.data?.patients.pageInfo.hasPreviousPage, false);

    const second = await search({ first: 2, after: first.data?.patients.pageInfo.endCursor });
    assert.deepEqual(
      second.data?.patients.edges.map((edge) => edge.node.name.family),
      ["O'Brien", 'Pérez'],
    );
    assert.equal(second.data?.patients.pageInfo.hasNextPage, true);
    assert.equal(second.data?.patients.pageInfo.hasPreviousPage, true);

    const third = await search({ first: 2, after: second.data?.patients.pageInfo.endCursor });
    assert.deepEqual(
      third.data?.patients.edges.map((edge) => edge.node.name.family),
      ['Smith'],
    );
    assert.equal(third.data?.patients.pageInfo.hasNextPage, false);
    assert.equal(third.data?.patients.totalCount, 5);
  });

  test('pages within search results', async () => {
    const first = await search({ search: 'jose', first: 1 });
    assert.equal(first.data?.patients.totalCount, 2);
    assert.deepEqual(
      first.data?.patients.edges.map((edge) => edge.node.name.family),
      ['García'],
    );

    const second = await search({ search: 'jose', first: 1, after: first.data?.patients.pageInfo.endCursor });
    assert.deepEqual(
      second.data?.patients.edges.map((edge) => edge.node.name.family),
      ['Pérez'],
    );
    assert.equal(second.data?.patients.pageInfo.hasNextPage, false);
  });

  test('rejects foreign cursor', async () => {
    const body = await search({ after: 'bm90LWEtY3Vyc29y' });

    assert.deepEqual(errorCodes(body), ['BAD_USER_INPUT']);
  });

  // Regression: cursors carried the folded family and given names, which then showed up in URLs and logs.
  test('cursor carries no name', async () => {
    const page = await search({ first: 1 });
    const cursor = page.data?.patients.pageInfo.endCursor ?? '';
    const decoded = Buffer.from(cursor, 'base64url').toString('utf8');

    assert.equal(decoded, JSON.stringify([page.data?.patients.edges[0]?.node.id]));
    assert.doesNotMatch(decoded.toLowerCase(), /garc/);
  });

  test('rejects cursor of another tenant', async () => {
    const mine = await search({ first: 1 });
    const otherToken = await harness.token(newId());

    const { body } = await harness.graphql<SearchResult>(
      SEARCH_PATIENTS,
      { after: mine.data?.patients.pageInfo.endCursor },
      otherToken,
    );

    assert.deepEqual(errorCodes(body), ['BAD_USER_INPUT']);
  });

  test('rejects page size over 100', async () => {
    const body = await search({ first: 101 });

    assert.deepEqual(errorCodes(body), ['BAD_USER_INPUT']);
  });

  test('rejects over-long search', async () => {
    const body = await search({ search: 'a'.repeat(201) });

    assert.deepEqual(errorCodes(body), ['BAD_USER_INPUT']);
  });

  // Regression: a NUL byte reached PostgreSQL, which failed the query with INTERNAL_SERVER_ERROR.
  test('rejects control characters', async () => {
    const body = await search({ search: 'a\u0000b' });

    assert.deepEqual(errorCodes(body), ['BAD_USER_INPUT']);
    const fields = (body.errors?.[0]?.extensions?.fields ?? []) as { field: string }[];
    assert.deepEqual(
      fields.map((field) => field.field),
      ['search'],
    );
  });
});
