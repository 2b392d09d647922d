import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { tenantFilters } from '@hms/service-kit';

export const OBSERVATION_STATUSES = ['FINAL', 'ENTERED_IN_ERROR'] as const;
export type ObservationStatus = (typeof OBSERVATION_STATUSES)[number];

export const VITAL_SIGN_KINDS = [
  'BODY_TEMPERATURE',
  'HEART_RATE',
  'RESPIRATORY_RATE',
  'SYSTOLIC_BLOOD_PRESSURE',
  'DIASTOLIC_BLOOD_PRESSURE',
  'OXYGEN_SATURATION',
  'BODY_HEIGHT',
  'BODY_WEIGHT',
  'BODY_MASS_INDEX',
  'HEAD_CIRCUMFERENCE',
] as const;
export type VitalSignKind = (typeof VITAL_SIGN_KINDS)[number];

export const BMI_HEIGHT_SOURCES = ['SAME_PANEL', 'LATEST_HEIGHT'] as const;
export type BmiHeightSource = (typeof BMI_HEIGHT_SOURCES)[number];

/** One set of vital signs measured together at one time, and who recorded it. */
export const VitalSignPanel = defineEntity({
  name: 'VitalSignPanel',
  tableName: 'vital_sign_panels',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    patientId: p.uuid(),
    encounterId: p.uuid().nullable(),
    effectiveAt: p.datetime(),
    status: p.enum(OBSERVATION_STATUSES),
    sourceId: p.text().nullable(),
    recordedAt: p.datetime(),
    recordedBy: p.uuid(),
    enteredInErrorAt: p.datetime().nullable(),
    enteredInErrorReason: p.text().nullable(),
    enteredInErrorBy: p.uuid().nullable(),
  },
  filters: tenantFilters,
});

export type VitalSignPanel = InferEntity<typeof VitalSignPanel>;

/**
 * One measurement of a panel. `value` is in the kind's canonical unit, and `originalValue` and
 * `originalUnit` are what was entered. A body mass index is computed and names the height it used.
 */
export const VitalSign = defineEntity({
  name: 'VitalSign',
  tableName: 'vital_signs',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    panelId: p.uuid(),
    patientId: p.uuid(),
    encounterId: p.uuid().nullable(),
    kind: p.enum(VITAL_SIGN_KINDS),
    /** LOINC code. */
    code: p.text(),
    value: p.decimal('number'),
    unit: p.text(),
    originalValue: p.decimal('number'),
    originalUnit: p.text(),
    effectiveAt: p.datetime(),
    status: p.enum(OBSERVATION_STATUSES),
    bmiHeightSource: p.enum(BMI_HEIGHT_SOURCES).nullable(),
    bmiHeightId: p.uuid().nullable(),
    /** Order within the panel, the order of VITAL_SIGN_KINDS. */
    position: p.smallint(),
  },
  filters: tenantFilters,
});

export type VitalSign = InferEntity<typeof VitalSign>;
