import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { tenantFilters } from '@hms/service-kit';

export const ADMINISTRATIVE_SEXES = ['FEMALE', 'MALE', 'OTHER', 'UNKNOWN'] as const;
export type AdministrativeSex = (typeof ADMINISTRATIVE_SEXES)[number];

/** A postal address as entered; every part is optional because addresses differ by country. */
export interface AddressValue {
  lines: string[];
  city: string | null;
  district: string | null;
  state: string | null;
  postalCode: string | null;
  country: string | null;
}

/**
 * A patient's demographics. `searchText`, `familyKey` and `givenKey` are derived from the name, MRN and
 * phone on every write (see patients/normalize.ts) so that search and ordering need no functions in SQL.
 */
export const Patient = defineEntity({
  name: 'Patient',
  tableName: 'patients',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    mrn: p.text(),
    givenNames: p.json<string[]>(),
    familyName: p.text(),
    namePrefix: p.json<string[]>(),
    nameSuffix: p.json<string[]>(),
    sex: p.enum(ADMINISTRATIVE_SEXES),
    genderIdentity: p.text().nullable(),
    /** YYYY-MM-DD. */
    birthDate: p.date(),
    deceasedAt: p.datetime().nullable(),
    /** E.164. */
    phone: p.text().nullable(),
    /** The E.164 number without its plus sign, for prefix search. */
    phoneDigits: p.text().nullable(),
    email: p.text().nullable(),
    address: p.json<AddressValue>().nullable(),
    searchText: p.text(),
    familyKey: p.text(),
    givenKey: p.text(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
  filters: tenantFilters,
});

export type Patient = InferEntity<typeof Patient>;
