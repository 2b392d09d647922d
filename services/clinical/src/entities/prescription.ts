import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { tenantFilters } from '@hms/service-kit';

export const PRESCRIPTION_STATUSES = ['ACTIVE', 'COMPLETED', 'STOPPED', 'CANCELLED'] as const;
export type PrescriptionStatus = (typeof PRESCRIPTION_STATUSES)[number];
export const TIME_UNITS = ['HOUR', 'DAY', 'WEEK', 'MONTH'] as const;
export type TimeUnit = (typeof TIME_UNITS)[number];
export const MEDICATION_ROUTES = [
  'ORAL',
  'SUBLINGUAL',
  'BUCCAL',
  'INTRAVENOUS',
  'INTRAMUSCULAR',
  'SUBCUTANEOUS',
  'INTRADERMAL',
  'TOPICAL',
  'TRANSDERMAL',
  'INHALATION',
  'NASAL',
  'OPHTHALMIC',
  'OTIC',
  'RECTAL',
  'VAGINAL',
  'OTHER',
] as const;
export const MEDICATION_SYSTEMS = ['RXNORM', 'SNOMED_CT'] as const;

/**
 * A medication order. `medicationKey` is the medication name folded for matching against allergies;
 * `overriddenAllergyIds` lists the allergies the prescriber overrode with `allergyOverrideReason`.
 */
export const Prescription = defineEntity({
  name: 'Prescription',
  tableName: 'prescriptions',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    patientId: p.uuid(),
    encounterId: p.uuid().nullable(),
    sourceId: p.text().nullable(),
    medicationSystem: p.enum(MEDICATION_SYSTEMS).nullable(),
    medicationCode: p.text().nullable(),
    medicationDisplay: p.text(),
    medicationKey: p.text(),
    doseValue: p.decimal('number').nullable(),
    doseUnit: p.text().nullable(),
    route: p.enum(MEDICATION_ROUTES).nullable(),
    timesPerPeriod: p.smallint().nullable(),
    period: p.decimal('number').nullable(),
    periodUnit: p.enum(TIME_UNITS).nullable(),
    asNeeded: p.boolean().nullable(),
    asNeededFor: p.text().nullable(),
    durationValue: p.decimal('number').nullable(),
    durationUnit: p.enum(TIME_UNITS).nullable(),
    quantityValue: p.decimal('number').nullable(),
    quantityUnit: p.text().nullable(),
    instructions: p.text().nullable(),
    status: p.enum(PRESCRIPTION_STATUSES),
    authoredAt: p.datetime(),
    prescriberId: p.uuid(),
    statusReason: p.text().nullable(),
    statusChangedAt: p.datetime().nullable(),
    statusChangedBy: p.uuid().nullable(),
    allergyOverrideReason: p.text().nullable(),
    overriddenAllergyIds: p.json<string[]>(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
  filters: tenantFilters,
});

export type Prescription = InferEntity<typeof Prescription>;
