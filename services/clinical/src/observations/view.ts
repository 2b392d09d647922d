import type { VitalSign, VitalSignPanel } from '../entities/vital-sign.js';
import { userReference } from '../records/view.js';
import { KIND_SPECS, OXYGEN_SATURATION_CODES } from './kinds.js';

/** A measurement exactly as the VitalSign type serves it. */
export interface VitalSignView {
  id: string;
  panelId: string;
  patientId: string;
  encounterId: string | null;
  kind: string;
  code: string;
  display: string;
  value: number;
  unit: string;
  original: { value: number; unit: string };
  effectiveAt: Date;
  status: string;
  bmiHeightSource: string | null;
  bmiHeightId: string | null;
}

/** The columns of a vital_signs row as a raw query returns them (numeric columns arrive as text). */
export interface VitalSignRow {
  id: string;
  panel_id: string;
  patient_id: string;
  encounter_id: string | null;
  kind: VitalSign['kind'];
  code: string;
  value: string | number;
  unit: string;
  original_value: string | number;
  original_unit: string;
  effective_at: Date | string;
  status: string;
  bmi_height_source: string | null;
  bmi_height_id: string | null;
}

export function vitalSignView(sign: VitalSign): VitalSignView {
  return {
    id: sign.id,
    panelId: sign.panelId,
    patientId: sign.patientId,
    encounterId: sign.encounterId ?? null,
    kind: sign.kind,
    code: sign.code,
    display: displayOf(sign.kind, sign.code),
    value: Number(sign.value),
    unit: sign.unit,
    original: { value: Number(sign.originalValue), unit: sign.originalUnit },
    effectiveAt: sign.effectiveAt,
    status: sign.status,
    bmiHeightSource: sign.bmiHeightSource ?? null,
    bmiHeightId: sign.bmiHeightId ?? null,
  };
}

export function vitalSignViewOfRow(row: VitalSignRow): VitalSignView {
  return {
    id: row.id,
    panelId: row.panel_id,
    patientId: row.patient_id,
    encounterId: row.encounter_id,
    kind: row.kind,
    code: row.code,
    display: displayOf(row.kind, row.code),
    value: Number(row.value),
    unit: row.unit,
    original: { value: Number(row.original_value), unit: row.original_unit },
    effectiveAt: new Date(row.effective_at),
    status: row.status,
    bmiHeightSource: row.bmi_height_source,
    bmiHeightId: row.bmi_height_id,
  };
}

/** A panel exactly as the VitalSignsPanel type serves it. */
export interface VitalSignsPanelView {
  id: string;
  patientId: string;
  encounterId: string | null;
  effectiveAt: Date;
  status: string;
  measurements: VitalSignView[];
  sourceId: string | null;
  recordedAt: Date;
  recorder: { __typename: 'User'; id: string };
  enteredInErrorAt: Date | null;
  enteredInErrorReason: string | null;
  enteredInErrorBy: { __typename: 'User'; id: string } | null;
}

/** Builds a panel's view; `measurements` must be in their stored order. */
export function panelView(panel: VitalSignPanel, measurements: VitalSign[]): VitalSignsPanelView {
  return {
    id: panel.id,
    patientId: panel.patientId,
    encounterId: panel.encounterId ?? null,
    effectiveAt: panel.effectiveAt,
    status: panel.status,
    measurements: measurements.map(vitalSignView),
    sourceId: panel.sourceId ?? null,
    recordedAt: panel.recordedAt,
    recorder: userReference(panel.recordedBy),
    enteredInErrorAt: panel.enteredInErrorAt ?? null,
    enteredInErrorReason: panel.enteredInErrorReason ?? null,
    enteredInErrorBy: panel.enteredInErrorBy ? userReference(panel.enteredInErrorBy) : null,
  };
}

function displayOf(kind: VitalSign['kind'], code: string): string {
  return kind === 'OXYGEN_SATURATION' ? (OXYGEN_SATURATION_CODES[code] ?? code) : KIND_SPECS[kind].display;
}
