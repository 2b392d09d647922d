/**
 * Synthetic patients for the benchmarks: a mix of common and made-up names, phones and MRNs, inserted in
 * bulk SQL, and the searches that meet them.
 */
import pg from 'pg';
import { newId } from '@hms/service-kit';
import { formatMrn } from '../src/patients/mrn.js';
import { digitsOf, searchTextOf, sortKeysOf } from '../src/patients/normalize.js';

export const GIVEN = [
  'María',
  'José',
  'Anna',
  'Jean',
  'Zoë',
  'Mohammed',
  'Aiko',
  'Olga',
  'Chidi',
  'Søren',
  'Liam',
  'Noor',
  'Ana',
  'Luis',
  'Priya',
  'Mateo',
  'Chloé',
  'Ivan',
  'Fatima',
  'Kenji',
];
export const FAMILY = [
  'García',
  'Müller',
  "O'Brien",
  'Nguyễn',
  'Smith',
  'Kowalski',
  'Johansson',
  'Pérez',
  'Rossi',
  'Öztürk',
  'Dubois',
  'Silva',
  'Tanaka',
  'Okafor',
  'Ivanova',
  'Larsen',
  'Novák',
  'Haddad',
  'Fernández',
  'Łukasik',
];
const PHONE_PREFIXES = ['1555', '44207946', '3461234', '4930123'];
const SYLLABLES = ['ka', 'lo', 'mi', 'ra', 'to', 'ne', 'su', 'vi', 'de', 'gu', 'ba', 'ri', 'zo', 'fe', 'ha'];

/**
 * Returns the family name of patient `index`. Three in ten carry one of the common names above, the rest
 * one of 3375 made-up names, so that searches meet both very common and rare names as in a real register.
 */
export function familyOf(index: number): string {
  if (index % 10 < 3) return FAMILY[Math.floor(index / GIVEN.length) % FAMILY.length]!;
  return madeUpName((index * 2654435761) % 3375);
}

export function madeUpName(code: number): string {
  const name = [code % 15, Math.floor(code / 15) % 15, Math.floor(code / 225) % 15]
    .map((syllable) => SYLLABLES[syllable])
    .join('');
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/**
 * Returns the searches per kind for a tenant of `patientCount` synthetic patients. Each client picks
 * queries from its kind's list in turn.
 */
export function searchQueries(patientCount: number): Record<string, (index: number) => string> {
  return {
    'common fragment': (index) =>
      ['garc', 'ller', 'brie', 'kowal', 'johan', 'ssi', 'dubo', 'tanak'][index % 8]!,
    'rare name': (index) => madeUpName((index * 7919) % 3375).toLowerCase(),
    'rare fragment': (index) =>
      madeUpName((index * 7919) % 3375)
        .toLowerCase()
        .slice(1, 5),
    'given and family': (index) =>
      ['maria garcia', 'jose muller', 'anna smith', 'zoe obrien', 'luis perez'][index % 5]!,
    'phone with +': (index) =>
      `+${PHONE_PREFIXES[index % PHONE_PREFIXES.length]} ${String(index % 100).padStart(2, '0')}`,
    'phone digits': (index) => String(1_000_000 + ((index * 7919) % patientCount)).slice(1, 7),
    'MRN exact': (index) => formatMrn(1 + ((index * 7919) % patientCount)),
    'MRN prefix': (index) => formatMrn(1 + ((index * 7919) % patientCount)).slice(0, 8),
    'no search': () => '',
  };
}

/**
 * Inserts `patientCount` synthetic patients in batches of 5,000 inside the tenant, with MRNs from
 * MRN-000001 on, and sets the tenant's MRN counter past them.
 */
export async function insertPatients(
  databaseUrl: string,
  tenantId: string,
  patientCount: number,
): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const batchSize = 5_000;
    for (let start = 0; start < patientCount; start += batchSize) {
      const columns: Record<string, unknown[]> = {
        id: [],
        mrn: [],
        given: [],
        family: [],
        sex: [],
        birth: [],
        phone: [],
        digits: [],
        search: [],
        familyKey: [],
        givenKey: [],
      };
      for (let index = start; index < Math.min(start + batchSize, patientCount); index++) {
        const given = [
          GIVEN[index % GIVEN.length]!,
          ...(index % 3 === 0 ? [GIVEN[(index * 7) % GIVEN.length]!] : []),
        ];
        const family = familyOf(index);
        const mrn = formatMrn(index + 1);
        const prefix = PHONE_PREFIXES[index % PHONE_PREFIXES.length]!;
        const phone = index % 5 === 4 ? null : `+${prefix}${String(index).padStart(11 - prefix.length, '0')}`;
        const phoneDigits = phone ? digitsOf(phone) : null;
        columns.id!.push(newId());
        columns.mrn!.push(mrn);
        columns.given!.push(JSON.stringify(given));
        columns.family!.push(family);
        columns.sex!.push(index % 2 ? 'FEMALE' : 'MALE');
        columns.birth!.push(
          `${1930 + (index % 90)}-${String(1 + (index % 12)).padStart(2, '0')}-${String(1 + (index % 28)).padStart(2, '0')}`,
        );
        columns.phone!.push(phone);
        columns.digits!.push(phoneDigits);
        columns.search!.push(searchTextOf({ given, family, mrn, phoneDigits }));
        const keys = sortKeysOf({ given, family });
        columns.familyKey!.push(keys.familyKey);
        columns.givenKey!.push(keys.givenKey);
      }

      await client.query('begin');
      await client.query("select set_config('app.tenant_id', $1, true)", [tenantId]);
      await client.query(
        `insert into clinical.patients (tenant_id, id, mrn, given_names, family_name, sex, birth_date, phone, phone_digits,
           search_text, family_key, given_key, created_at, updated_at)
         select $1, id, mrn, given::jsonb, family, sex, birth::date, phone, digits, search, family_key, given_key, now(), now()
         from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
           as batch (id, mrn, given, family, sex, birth, phone, digits, search, family_key, given_key)`,
        [
          tenantId,
          columns.id,
          columns.mrn,
          columns.given,
          columns.family,
          columns.sex,
          columns.birth,
          columns.phone,
          columns.digits,
          columns.search,
          columns.familyKey,
          columns.givenKey,
        ],
      );
      await client.query(
        'insert into clinical.mrn_counters (tenant_id, last_value) values ($1, $2) on conflict (tenant_id) do update set last_value = excluded.last_value',
        [tenantId, Math.min(start + batchSize, patientCount)],
      );
      await client.query('commit');
    }
  } finally {
    await client.end();
  }
}
