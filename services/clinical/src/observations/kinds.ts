import type { VitalSignKind } from '../entities/vital-sign.js';

/**
 * The vital sign kinds: LOINC code and display, the UCUM units accepted, the canonical unit values
 * are stored in, and the range of physically plausible values. The ranges reject typing errors (a
 * temperature of 370, a weight in grams sent as kg), not unusual patients: they are wider than any
 * normal range, and cover neonates and critical care.
 */

/** A UCUM unit and its conversion to and from the kind's canonical unit. */
interface UnitConversion {
  toCanonical(value: number): number;
  fromCanonical(value: number): number;
}

export interface KindSpec {
  kind: VitalSignKind;
  /** The LOINC code a measurement of this kind is stored with by default. */
  code: string;
  display: string;
  /** Every UCUM unit accepted, the canonical one first. */
  units: Record<string, UnitConversion>;
  canonicalUnit: string;
  /** Plausible values, inclusive, in the canonical unit. */
  min: number;
  max: number;
  /** Decimal places of the stored canonical value, finer than any instrument of the kind reads. */
  decimals: number;
}

const same: UnitConversion = { toCanonical: (value) => value, fromCanonical: (value) => value };

/** Multiplies by an exact factor, such as 2.54 cm per inch. */
function scaled(factor: number): UnitConversion {
  return { toCanonical: (value) => value * factor, fromCanonical: (value) => value / factor };
}

const fahrenheit: UnitConversion = {
  toCanonical: (value) => ((value - 32) * 5) / 9,
  fromCanonical: (value) => (value * 9) / 5 + 32,
};

/** The international inch, exactly 2.54 cm. */
const INCH_CM = 2.54;
/** The avoirdupois pound, exactly 0.45359237 kg. */
const POUND_KG = 0.45359237;

export const KIND_SPECS: Record<VitalSignKind, KindSpec> = {
  BODY_TEMPERATURE: {
    kind: 'BODY_TEMPERATURE',
    code: '8310-5',
    display: 'Body temperature',
    units: { Cel: same, '[degF]': fahrenheit },
    canonicalUnit: 'Cel',
    min: 25,
    max: 45,
    decimals: 2,
  },
  HEART_RATE: {
    kind: 'HEART_RATE',
    code: '8867-4',
    display: 'Heart rate',
    units: { '/min': same },
    canonicalUnit: '/min',
    min: 20,
    max: 300,
    decimals: 1,
  },
  RESPIRATORY_RATE: {
    kind: 'RESPIRATORY_RATE',
    code: '9279-1',
    display: 'Respiratory rate',
    units: { '/min': same },
    canonicalUnit: '/min',
    min: 2,
    max: 120,
    decimals: 1,
  },
  SYSTOLIC_BLOOD_PRESSURE: {
    kind: 'SYSTOLIC_BLOOD_PRESSURE',
    code: '8480-6',
    display: 'Systolic blood pressure',
    units: { 'mm[Hg]': same },
    canonicalUnit: 'mm[Hg]',
    min: 40,
    max: 300,
    decimals: 1,
  },
  DIASTOLIC_BLOOD_PRESSURE: {
    kind: 'DIASTOLIC_BLOOD_PRESSURE',
    code: '8462-4',
    display: 'Diastolic blood pressure',
    units: { 'mm[Hg]': same },
    canonicalUnit: 'mm[Hg]',
    min: 10,
    max: 200,
    decimals: 1,
  },
  OXYGEN_SATURATION: {
    kind: 'OXYGEN_SATURATION',
    code: '59408-5',
    display: 'Oxygen saturation in Arterial blood by Pulse oximetry',
    units: { '%': same },
    canonicalUnit: '%',
    min: 50,
    max: 100,
    decimals: 1,
  },
  BODY_HEIGHT: {
    kind: 'BODY_HEIGHT',
    code: '8302-2',
    display: 'Body height',
    units: { cm: same, m: scaled(100), '[in_i]': scaled(INCH_CM) },
    canonicalUnit: 'cm',
    min: 20,
    max: 280,
    decimals: 2,
  },
  BODY_WEIGHT: {
    kind: 'BODY_WEIGHT',
    code: '29463-7',
    display: 'Body weight',
    units: { kg: same, g: scaled(0.001), '[lb_av]': scaled(POUND_KG) },
    canonicalUnit: 'kg',
    min: 0.2,
    max: 650,
    decimals: 3,
  },
  BODY_MASS_INDEX: {
    kind: 'BODY_MASS_INDEX',
    code: '39156-5',
    display: 'Body mass index (BMI) [Ratio]',
    units: { 'kg/m2': same },
    canonicalUnit: 'kg/m2',
    min: 5,
    max: 200,
    decimals: 2,
  },
  HEAD_CIRCUMFERENCE: {
    kind: 'HEAD_CIRCUMFERENCE',
    code: '9843-4',
    display: 'Head Occipital-frontal circumference',
    units: { cm: same, '[in_i]': scaled(INCH_CM) },
    canonicalUnit: 'cm',
    min: 15,
    max: 75,
    decimals: 2,
  },
};

/** The oxygen saturation codes accepted, with their LOINC display. */
export const OXYGEN_SATURATION_CODES: Record<string, string> = {
  '59408-5': 'Oxygen saturation in Arterial blood by Pulse oximetry',
  '2708-6': 'Oxygen saturation in Arterial blood',
};

/** The blood pressure panel; a filter by it selects its systolic and diastolic components. */
export const BLOOD_PRESSURE_PANEL_CODE = '85354-9';

/** Maps every LOINC code of a vital sign to its kind, for filters by code. */
export const KIND_BY_CODE: Record<string, VitalSignKind> = {
  ...Object.fromEntries(Object.values(KIND_SPECS).map((spec) => [spec.code, spec.kind])),
  '2708-6': 'OXYGEN_SATURATION',
};

/**
 * Rounds to `decimals` places, half away from zero. The factor (1 + epsilon) undoes the binary error of
 * a product such as 1.005 * 100 = 100.49999999999999, which would otherwise round down.
 */
export function roundTo(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return (Math.sign(value) * Math.round(Math.abs(value) * factor * (1 + Number.EPSILON))) / factor;
}

/** Formats a range bound in the given unit, with at most two decimals and no trailing zeros. */
export function formatBound(value: number): string {
  return String(roundTo(value, 2));
}
