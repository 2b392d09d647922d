import type { BmiHeightSource, VitalSignKind } from '../entities/vital-sign.js';

/** GraphQL input types of the vital signs schema, as the resolvers receive them. */
export interface QuantityInput {
  value: number;
  unit: string;
}

export interface BloodPressureInput {
  systolic: number;
  diastolic: number;
  unit: string;
}

export interface OxygenSaturationInput extends QuantityInput {
  code?: string | null;
}

export interface RecordVitalSignsInput {
  patientId: string;
  encounterId?: string | null;
  effectiveAt: Date;
  sourceId?: string | null;
  bodyTemperature?: QuantityInput | null;
  heartRate?: QuantityInput | null;
  respiratoryRate?: QuantityInput | null;
  bloodPressure?: BloodPressureInput | null;
  oxygenSaturation?: OxygenSaturationInput | null;
  bodyHeight?: QuantityInput | null;
  bodyWeight?: QuantityInput | null;
  headCircumference?: QuantityInput | null;
}

/** One validated measurement, ready to store. */
export interface MeasurementDraft {
  kind: VitalSignKind;
  code: string;
  /** In the kind's canonical unit, rounded to the kind's decimals. */
  value: number;
  unit: string;
  originalValue: number;
  originalUnit: string;
  bmiHeightSource?: BmiHeightSource;
  bmiHeightId?: string;
}
