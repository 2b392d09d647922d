import { InputErrors } from '@hms/service-kit';
import type { VitalSignKind } from '../entities/vital-sign.js';
import { checkOptionalUuid, checkPastInstant, checkSourceId } from '../records/input.js';
import { formatBound, KIND_SPECS, OXYGEN_SATURATION_CODES, roundTo } from './kinds.js';
import type { MeasurementDraft, QuantityInput, RecordVitalSignsInput } from './inputs.js';

/** A panel's input after validation, without the body mass index, which needs stored heights. */
export interface PanelDraft {
  encounterId: string | null;
  effectiveAt: Date;
  sourceId: string | null;
  measurements: MeasurementDraft[];
}

/**
 * Validates a panel: at least one measurement, known units, plausible values, diastolic below
 * systolic, effectiveAt not in the future. Throws BAD_USER_INPUT listing every invalid field.
 */
export function validatePanel(input: RecordVitalSignsInput, now: Date): PanelDraft {
  const errors = new InputErrors();
  const encounterId = checkOptionalUuid(input.encounterId, 'input.encounterId', 'an encounter', errors);
  const sourceId = checkSourceId(input.sourceId, errors);
  const effectiveAt = checkPastInstant(input.effectiveAt, 'input.effectiveAt', now, errors);
  const measurements: MeasurementDraft[] = [];
  const add = (draft: MeasurementDraft | null) => {
    if (draft) measurements.push(draft);
  };

  add(measure('BODY_TEMPERATURE', input.bodyTemperature, 'input.bodyTemperature', errors));
  add(measure('HEART_RATE', input.heartRate, 'input.heartRate', errors));
  add(measure('RESPIRATORY_RATE', input.respiratoryRate, 'input.respiratoryRate', errors));

  // The two pressures share one unit, and a diastolic pressure at or above the systolic one is a
  // swapped or mistyped pair.
  const pressure = input.bloodPressure;
  if (pressure) {
    const unit = { unit: pressure.unit };
    const systolic = measure(
      'SYSTOLIC_BLOOD_PRESSURE',
      { value: pressure.systolic, ...unit },
      'input.bloodPressure.systolic',
      errors,
      'input.bloodPressure.unit',
    );
    const diastolic = measure(
      'DIASTOLIC_BLOOD_PRESSURE',
      { value: pressure.diastolic, ...unit },
      'input.bloodPressure.diastolic',
      errors,
      'input.bloodPressure.unit',
      !systolic && !KIND_SPECS.SYSTOLIC_BLOOD_PRESSURE.units[pressure.unit],
    );
    if (systolic && diastolic && diastolic.value >= systolic.value) {
      errors.add(
        'input.bloodPressure.diastolic',
        `must be lower than the systolic pressure (${formatBound(systolic.originalValue)} ${pressure.unit})`,
      );
    }
    add(systolic);
    add(diastolic);
  }

  const saturation = input.oxygenSaturation;
  if (saturation) {
    const code = saturation.code?.trim() || KIND_SPECS.OXYGEN_SATURATION.code;
    if (!OXYGEN_SATURATION_CODES[code]) {
      errors.add(
        'input.oxygenSaturation.code',
        `must be one of ${Object.keys(OXYGEN_SATURATION_CODES).join(', ')}`,
      );
    }
    const draft = measure('OXYGEN_SATURATION', saturation, 'input.oxygenSaturation', errors);
    if (draft && OXYGEN_SATURATION_CODES[code]) add({ ...draft, code });
  }

  add(measure('BODY_HEIGHT', input.bodyHeight, 'input.bodyHeight', errors));
  add(measure('BODY_WEIGHT', input.bodyWeight, 'input.bodyWeight', errors));
  add(measure('HEAD_CIRCUMFERENCE', input.headCircumference, 'input.headCircumference', errors));

  if (errors.isEmpty && measurements.length === 0) {
    errors.add('input', 'must contain at least one measurement');
  }
  errors.throwIfAny();
  return { encounterId, effectiveAt: effectiveAt!, sourceId, measurements };
}

/**
 * Converts one measurement to the kind's canonical unit and checks its range in the unit given.
 * Returns null, after adding the error, when the unit is unknown or the value implausible.
 */
function measure(
  kind: VitalSignKind,
  quantity: QuantityInput | null | undefined,
  field: string,
  errors: InputErrors,
  unitField = `${field}.unit`,
  unitErrorReported = false,
): MeasurementDraft | null {
  if (!quantity) return null;
  const spec = KIND_SPECS[kind];
  const unit = quantity.unit.trim();
  const conversion = spec.units[unit];
  if (!conversion) {
    if (!unitErrorReported) {
      errors.add(
        unitField,
        `must be one of ${Object.keys(spec.units).join(', ')} (UCUM), not ${JSON.stringify(unit)}`,
      );
    }
    return null;
  }

  const valueField = unitField === `${field}.unit` ? `${field}.value` : field;
  if (!Number.isFinite(quantity.value)) {
    errors.add(valueField, 'must be a finite number');
    return null;
  }
  const value = roundTo(conversion.toCanonical(quantity.value), spec.decimals);
  if (value < spec.min || value > spec.max) {
    const low = formatBound(conversion.fromCanonical(spec.min));
    const high = formatBound(conversion.fromCanonical(spec.max));
    const canonical =
      unit === spec.canonicalUnit ? '' : ` (${spec.min} to ${spec.max} ${spec.canonicalUnit})`;
    errors.add(valueField, `must be from ${low} to ${high} ${unit}${canonical}, not ${quantity.value}`);
    return null;
  }
  return {
    kind,
    code: spec.code,
    value,
    unit: spec.canonicalUnit,
    originalValue: quantity.value,
    originalUnit: unit,
  };
}

/**
 * Computes a body mass index in kg/m2 from a weight in kg and a height in cm, rounded as stored.
 * Returns undefined when the result is outside the plausible range, which means one of the two is wrong.
 */
export function bodyMassIndex(weightKg: number, heightCm: number): number | undefined {
  const spec = KIND_SPECS.BODY_MASS_INDEX;
  const meters = heightCm / 100;
  const bmi = roundTo(weightKg / (meters * meters), spec.decimals);
  return bmi >= spec.min && bmi <= spec.max ? bmi : undefined;
}
