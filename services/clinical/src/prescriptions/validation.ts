import { InputErrors } from '@hms/service-kit';
import { MEDICATION_SYSTEMS, type PrescriptionStatus, type TimeUnit } from '../entities/prescription.js';
import {
  checkConcept,
  checkOptionalUuid,
  checkPastInstant,
  checkSourceId,
  checkText,
  MAX_REASON,
  type ConceptValue,
} from '../records/input.js';
import type { DosageFrequencyInput, IssuePrescriptionInput, QuantityInput } from './inputs.js';

/**
 * UCUM units of a dose or a dispensed quantity. Any UCUM annotation in braces, such as {tbl} or
 * {puff}, is accepted as well, since UCUM defines those as countable units.
 */
export const DOSE_UNITS = [
  'mg',
  'g',
  'ug',
  'ng',
  'kg',
  'mL',
  'L',
  '[iU]',
  'meq',
  'mmol',
  '[drp]',
  '%',
  '1',
] as const;
const ANNOTATION = /^\{[A-Za-z][A-Za-z ._-]{0,29}\}$/;

const MAX_AMOUNT = 1_000_000;
const MAX_TIMES_PER_PERIOD = 48;
const MAX_PERIOD = 1000;
const MAX_INSTRUCTIONS = 2000;
/** Statuses a prescription may be recorded with: ACTIVE, or a final one for imported history. */
const CREATE_STATUSES: PrescriptionStatus[] = ['ACTIVE', 'COMPLETED', 'STOPPED'];
/** Final statuses that history is recorded with; only these may leave the dosage out. */
const HISTORY_STATUSES: PrescriptionStatus[] = ['COMPLETED', 'STOPPED'];

/** A prescription's input after validation. */
export interface PrescriptionDraft {
  encounterId: string | null;
  sourceId: string | null;
  medication: ConceptValue<(typeof MEDICATION_SYSTEMS)[number]>;
  /** Null only for history with a final status whose source gave no dose. */
  dose: QuantityInput | null;
  /** Null only for history with a final status whose source gave no frequency. */
  frequency: {
    timesPerPeriod: number | null;
    period: number | null;
    periodUnit: TimeUnit | null;
    asNeeded: boolean;
    asNeededFor: string | null;
  } | null;
  duration: { value: number; unit: TimeUnit } | null;
  quantity: QuantityInput | null;
  instructions: string | null;
  authoredAt: Date;
  status: PrescriptionStatus;
  statusReason: string | null;
  allergyOverrideReason: string | null;
}

/** Validates a new prescription; throws BAD_USER_INPUT listing every invalid field. */
export function validatePrescription(input: IssuePrescriptionInput, now: Date): PrescriptionDraft {
  const errors = new InputErrors();
  const encounterId = checkOptionalUuid(input.encounterId, 'input.encounterId', 'an encounter', errors);
  const sourceId = checkSourceId(input.sourceId, errors);
  const medication = checkConcept(input.medication, 'input.medication', MEDICATION_SYSTEMS, errors);
  const dose = input.dose ? checkAmount(input.dose, 'input.dose', errors) : null;
  const frequency = input.frequency ? checkFrequency(input.frequency, errors) : null;
  const quantity = input.quantity ? checkAmount(input.quantity, 'input.quantity', errors) : null;
  let duration: PrescriptionDraft['duration'] = null;
  if (input.duration) {
    if (!(input.duration.value > 0 && input.duration.value <= MAX_PERIOD)) {
      errors.add('input.duration.value', `must be greater than 0 and at most ${MAX_PERIOD}`);
    } else {
      duration = { value: input.duration.value, unit: input.duration.unit };
    }
  }
  const instructions = checkText(input.instructions, 'input.instructions', MAX_INSTRUCTIONS, errors);
  const authoredAt = checkPastInstant(input.authoredAt, 'input.authoredAt', now, errors) ?? now;

  const status = input.status ?? 'ACTIVE';
  if (!CREATE_STATUSES.includes(status)) {
    errors.add(
      'input.status',
      `must be one of ${CREATE_STATUSES.join(', ')}; cancel an ACTIVE prescription instead`,
    );
  }
  // Imported history may lack the dosage its source never recorded; HMS stores it as not recorded
  // rather than invent one. An ACTIVE prescription orders the drug, so it needs both.
  const history = HISTORY_STATUSES.includes(status) && input.authoredAt != null;
  for (const [field, given] of [
    ['input.dose', input.dose != null],
    ['input.frequency', input.frequency != null],
  ] as const) {
    if (!given && !history) {
      errors.add(
        field,
        'is required, except for history recorded with status COMPLETED or STOPPED and a past authoredAt whose source gave none',
      );
    }
  }
  const statusReason = checkText(input.statusReason, 'input.statusReason', MAX_REASON, errors);
  if (status === 'STOPPED' && !statusReason)
    errors.add('input.statusReason', 'is required with status STOPPED');
  if (status === 'ACTIVE' && statusReason)
    errors.add('input.statusReason', 'must be left out with status ACTIVE');
  const allergyOverrideReason = checkText(
    input.allergyOverrideReason,
    'input.allergyOverrideReason',
    MAX_REASON,
    errors,
  );

  errors.throwIfAny();
  return {
    encounterId,
    sourceId,
    medication: medication!,
    dose,
    frequency,
    duration,
    quantity,
    instructions,
    authoredAt,
    status,
    statusReason,
    allergyOverrideReason,
  };
}

/** Checks an amount with a UCUM unit: greater than 0 and at most a million. */
function checkAmount(amount: QuantityInput, field: string, errors: InputErrors): QuantityInput | null {
  const unit = amount.unit.trim();
  let valid = true;
  if (!(DOSE_UNITS as readonly string[]).includes(unit) && !ANNOTATION.test(unit)) {
    errors.add(
      `${field}.unit`,
      `must be one of ${DOSE_UNITS.join(', ')} or a UCUM annotation such as {tbl}, not ${JSON.stringify(unit)}`,
    );
    valid = false;
  }
  if (!(Number.isFinite(amount.value) && amount.value > 0 && amount.value <= MAX_AMOUNT)) {
    errors.add(`${field}.value`, `must be greater than 0 and at most ${MAX_AMOUNT}`);
    valid = false;
  }
  return valid ? { value: amount.value, unit } : null;
}

/** Checks a frequency: timesPerPeriod doses every period periodUnit, or as needed without a schedule. */
function checkFrequency(
  input: DosageFrequencyInput,
  errors: InputErrors,
): PrescriptionDraft['frequency'] | null {
  const asNeeded = input.asNeeded ?? false;
  const asNeededFor = checkText(input.asNeededFor, 'input.frequency.asNeededFor', MAX_REASON, errors);
  if (asNeededFor && !asNeeded)
    errors.add('input.frequency.asNeededFor', 'is allowed only with asNeeded true');

  const times = input.timesPerPeriod ?? null;
  if (times === null) {
    if (!asNeeded) {
      errors.add('input.frequency.timesPerPeriod', 'is required unless asNeeded is true');
      return null;
    }
    if (input.period != null || input.periodUnit != null) {
      errors.add('input.frequency.timesPerPeriod', 'is required with period or periodUnit');
      return null;
    }
    return { timesPerPeriod: null, period: null, periodUnit: null, asNeeded, asNeededFor };
  }

  let valid = true;
  if (!Number.isInteger(times) || times < 1 || times > MAX_TIMES_PER_PERIOD) {
    errors.add('input.frequency.timesPerPeriod', `must be an integer from 1 to ${MAX_TIMES_PER_PERIOD}`);
    valid = false;
  }
  const period = input.period ?? 1;
  if (!(period > 0 && period <= MAX_PERIOD)) {
    errors.add('input.frequency.period', `must be greater than 0 and at most ${MAX_PERIOD}`);
    valid = false;
  }
  if (!input.periodUnit) {
    errors.add('input.frequency.periodUnit', 'is required with timesPerPeriod (HOUR, DAY, WEEK or MONTH)');
    valid = false;
  }
  return valid
    ? { timesPerPeriod: times, period, periodUnit: input.periodUnit!, asNeeded, asNeededFor }
    : null;
}
