import { LockMode } from '@mikro-orm/postgresql';
import { HmsError, InputErrors, newId, type EntityManager, type EventOrigin } from '@hms/service-kit';
import { VITAL_SIGN_KINDS, VitalSign, VitalSignPanel, type VitalSignKind } from '../entities/vital-sign.js';
import { ageBetween, localDateOf } from '../patients/age.js';
import { ageSettings } from '../patients/store.js';
import { checkRequiredText, MAX_REASON } from '../records/input.js';
import {
  assertSourceIdFree,
  flushSourced,
  requireEncounterOfPatient,
  requirePatientLivingAt,
} from '../records/store.js';
import { vitalsEnteredInError, vitalsRecorded } from './events.js';
import type { MeasurementDraft, RecordVitalSignsInput } from './inputs.js';
import { bodyMassIndex, validatePanel } from './validation.js';
import { panelView, type VitalSignsPanelView } from './view.js';

/** The input field of each entered kind, for audit records and errors. */
const FIELD_OF_KIND: Partial<Record<VitalSignKind, string>> = {
  BODY_TEMPERATURE: 'bodyTemperature',
  HEART_RATE: 'heartRate',
  RESPIRATORY_RATE: 'respiratoryRate',
  SYSTOLIC_BLOOD_PRESSURE: 'bloodPressure',
  DIASTOLIC_BLOOD_PRESSURE: 'bloodPressure',
  OXYGEN_SATURATION: 'oxygenSaturation',
  BODY_HEIGHT: 'bodyHeight',
  BODY_WEIGHT: 'bodyWeight',
  HEAD_CIRCUMFERENCE: 'headCircumference',
};

/**
 * Maximum age of the earlier height used for the body mass index of a patient under the age of
 * majority, because children grow and an older height gives a wrong index. Adults have no limit.
 */
const CHILD_HEIGHT_MAX_AGE_MS = 31 * 86_400_000;

/**
 * Validates and stores one panel of vital signs with its computed body mass index, and writes its
 * event and audit record in the same transaction.
 */
export async function recordVitalSigns(
  em: EntityManager,
  tenantId: string,
  input: RecordVitalSignsInput,
  now: Date,
  origin: EventOrigin,
  recorderId: string,
): Promise<VitalSignsPanelView> {
  // Checks of the input alone come first, so invalid input reads and writes nothing.
  const draft = validatePanel(input, now);
  // Checks against the patient: nothing measured before birth or after death, and head circumference
  // for children only.
  const patient = await requirePatientLivingAt(em, input.patientId, [
    { field: 'input.effectiveAt', at: draft.effectiveAt },
  ]);
  const settings = await ageSettings(em);
  const errors = new InputErrors();
  const localDate = localDateOf(draft.effectiveAt, settings.timeZone);
  const age = ageBetween(patient.birthDate, localDate);
  const isChild = age.years < settings.ageOfMajority;
  if (draft.measurements.some((m) => m.kind === 'HEAD_CIRCUMFERENCE') && !isChild) {
    errors.add(
      'input.headCircumference',
      `is recorded only for patients under the age of majority (${settings.ageOfMajority}); the patient was ${age.display} old at effectiveAt`,
    );
  }
  errors.throwIfAny();

  await requireEncounterOfPatient(em, input.patientId, draft.encounterId);
  await assertSourceIdFree(em, 'vital_sign_panels', 'vital signs panel', draft.sourceId);

  const panelId = newId();
  const measurements = draft.measurements.map((measurement) => ({ ...measurement, id: newId() }));
  const bmi = await bodyMassIndexOf(em, input.patientId, draft.effectiveAt, measurements, isChild);
  if (bmi) measurements.push({ ...bmi, id: newId() });

  const panel = em.create(VitalSignPanel, {
    id: panelId,
    tenantId,
    patientId: input.patientId,
    encounterId: draft.encounterId,
    effectiveAt: draft.effectiveAt,
    status: 'FINAL',
    sourceId: draft.sourceId,
    recordedAt: now,
    recordedBy: recorderId,
  });
  // The panel is inserted first because the entities declare no relation between the two tables, so
  // the ORM would not order the inserts for the foreign key by itself.
  await flushSourced(em, 'vital signs panel');
  const rows = measurements
    .sort((a, b) => VITAL_SIGN_KINDS.indexOf(a.kind) - VITAL_SIGN_KINDS.indexOf(b.kind))
    .map((measurement) =>
      em.create(VitalSign, {
        id: measurement.id,
        tenantId,
        panelId,
        patientId: input.patientId,
        encounterId: draft.encounterId,
        kind: measurement.kind,
        code: measurement.code,
        value: measurement.value,
        unit: measurement.unit,
        originalValue: measurement.originalValue,
        originalUnit: measurement.originalUnit,
        effectiveAt: draft.effectiveAt,
        status: 'FINAL',
        bmiHeightSource: measurement.bmiHeightSource ?? null,
        bmiHeightId: measurement.bmiHeightId ?? null,
        position: VITAL_SIGN_KINDS.indexOf(measurement.kind),
      }),
    );
  await em.flush();

  const fields = [...new Set(draft.measurements.map((m) => FIELD_OF_KIND[m.kind]!))];
  await vitalsRecorded(
    em,
    origin,
    tenantId,
    panel,
    rows.map((row) => row.id),
    fields,
  );
  return panelView(panel, rows);
}

/**
 * Computes the body mass index of a panel with a weight: from the panel's height, or else from the
 * patient's latest valid height at or before the panel (within 31 days for a child). Returns undefined
 * when there is no weight or no usable height; throws BAD_USER_INPUT when the index is implausible.
 */
async function bodyMassIndexOf(
  em: EntityManager,
  patientId: string,
  effectiveAt: Date,
  measurements: (MeasurementDraft & { id: string })[],
  isChild: boolean,
): Promise<MeasurementDraft | undefined> {
  const weight = measurements.find((m) => m.kind === 'BODY_WEIGHT');
  if (!weight) return undefined;

  let height: { id: string; value: number } | undefined = measurements.find((m) => m.kind === 'BODY_HEIGHT');
  const source = height ? 'SAME_PANEL' : 'LATEST_HEIGHT';
  if (!height) {
    const earliest = isChild ? new Date(effectiveAt.getTime() - CHILD_HEIGHT_MAX_AGE_MS) : undefined;
    const latest = await em.findOne(
      VitalSign,
      {
        patientId,
        kind: 'BODY_HEIGHT',
        status: 'FINAL',
        effectiveAt: earliest ? { $lte: effectiveAt, $gte: earliest } : { $lte: effectiveAt },
      },
      { orderBy: { effectiveAt: 'desc', id: 'desc' } },
    );
    if (!latest) return undefined;
    height = { id: latest.id, value: Number(latest.value) };
  }

  const value = bodyMassIndex(weight.value, height.value);
  if (value === undefined) {
    const errors = new InputErrors();
    const message = `gives a body mass index outside 5 to 200 kg/m2 with the height of ${height.value} cm; check the weight and height`;
    errors.add('input.bodyWeight', message);
    if (source === 'SAME_PANEL') errors.add('input.bodyHeight', message);
    errors.throwIfAny();
  }
  return {
    kind: 'BODY_MASS_INDEX',
    code: '39156-5',
    value: value!,
    unit: 'kg/m2',
    originalValue: value!,
    originalUnit: 'kg/m2',
    bmiHeightSource: source,
    bmiHeightId: height.id,
  };
}

/**
 * Marks a panel and its measurements entered in error with the reason, together with the body mass
 * indexes of other panels computed from its height, and writes the event and audit record.
 */
export async function markVitalSignsEnteredInError(
  em: EntityManager,
  tenantId: string,
  panelId: string,
  reason: string,
  now: Date,
  origin: EventOrigin,
  userId: string,
): Promise<VitalSignsPanelView> {
  const errors = new InputErrors();
  const checkedReason = checkRequiredText(reason, 'reason', MAX_REASON, errors);
  errors.throwIfAny();

  const panel = await em.findOne(VitalSignPanel, { id: panelId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!panel) throw HmsError.notFound('VitalSignsPanel', panelId);
  if (panel.status === 'ENTERED_IN_ERROR') {
    throw HmsError.conflict(`Vital signs panel ${panelId} is already marked entered in error.`, {
      status: panel.status,
    });
  }
  const measurements = await em.find(VitalSign, { panelId }, { orderBy: { position: 'asc' } });
  const heightIds = measurements.filter((m) => m.kind === 'BODY_HEIGHT').map((m) => m.id);
  const derived = heightIds.length
    ? await em.find(VitalSign, {
        bmiHeightId: { $in: heightIds },
        panelId: { $ne: panelId },
        status: 'FINAL',
      })
    : [];

  em.assign(panel, {
    status: 'ENTERED_IN_ERROR',
    enteredInErrorAt: now,
    enteredInErrorReason: checkedReason,
    enteredInErrorBy: userId,
  });
  for (const measurement of [...measurements, ...derived]) measurement.status = 'ENTERED_IN_ERROR';
  await em.flush();

  await vitalsEnteredInError(
    em,
    origin,
    tenantId,
    panel,
    derived.map((m) => m.id),
  );
  return panelView(panel, measurements);
}

/** Loads panels with their measurements in two queries, whatever the count. */
export async function loadPanels(
  em: EntityManager,
  ids: readonly string[],
): Promise<Map<string, VitalSignsPanelView>> {
  const views = new Map<string, VitalSignsPanelView>();
  if (ids.length === 0) return views;
  const panels = await em.find(VitalSignPanel, { id: { $in: [...new Set(ids)] } });
  const measurements = panels.length
    ? await em.find(
        VitalSign,
        { panelId: { $in: panels.map((panel) => panel.id) } },
        { orderBy: { panelId: 'asc', position: 'asc' } },
      )
    : [];
  for (const panel of panels) {
    views.set(
      panel.id,
      panelView(
        panel,
        measurements.filter((m) => m.panelId === panel.id),
      ),
    );
  }
  return views;
}
