import {
  decodeCursor,
  encodeCursor,
  HmsError,
  isUuid,
  pageSize,
  toConnection,
  type Connection,
  type EntityManager,
} from '@hms/service-kit';
import type { VitalSignKind } from '../entities/vital-sign.js';
import { BLOOD_PRESSURE_PANEL_CODE, KIND_BY_CODE, KIND_SPECS } from './kinds.js';
import { vitalSignViewOfRow, type VitalSignRow, type VitalSignView } from './view.js';

/**
 * Batched reads of measurements for many patients at once: each function costs one query whatever
 * the number of patients, which is what the per-request loaders of the Patient fields rely on. Only
 * valid (FINAL) measurements are read. Every query names the tenant so that its index serves it;
 * row-level security would limit it to the tenant anyway.
 */

/** Reads the latest valid measurement of each kind for each patient. */
export async function latestVitalsOf(
  em: EntityManager,
  tenantId: string,
  patientIds: readonly string[],
): Promise<Map<string, Map<VitalSignKind, VitalSignView>>> {
  const rows = await em.execute<VitalSignRow[]>(
    `select distinct on (patient_id, kind) *
       from clinical.vital_signs
      where tenant_id = ? and patient_id in (?) and status = 'FINAL'
      order by patient_id, kind, effective_at desc, id desc`,
    [tenantId, [...patientIds]],
  );
  const result = new Map<string, Map<VitalSignKind, VitalSignView>>();
  for (const row of rows) {
    const latest = result.get(row.patient_id) ?? new Map<VitalSignKind, VitalSignView>();
    latest.set(row.kind, vitalSignViewOfRow(row));
    result.set(row.patient_id, latest);
  }
  return result;
}

const GROWTH_KINDS: VitalSignKind[] = ['BODY_HEIGHT', 'BODY_WEIGHT', 'BODY_MASS_INDEX', 'HEAD_CIRCUMFERENCE'];

/** Reads the valid growth measurements (height, weight, BMI, head circumference) of each patient, oldest first. */
export async function growthMeasurementsOf(
  em: EntityManager,
  tenantId: string,
  patientIds: readonly string[],
): Promise<Map<string, VitalSignView[]>> {
  const rows = await em.execute<VitalSignRow[]>(
    `select *
       from clinical.vital_signs
      where tenant_id = ? and patient_id in (?) and status = 'FINAL' and kind in (?)
      order by patient_id, effective_at, id`,
    [tenantId, [...patientIds], GROWTH_KINDS],
  );
  const result = new Map<string, VitalSignView[]>();
  for (const row of rows) {
    const series = result.get(row.patient_id) ?? [];
    series.push(vitalSignViewOfRow(row));
    result.set(row.patient_id, series);
  }
  return result;
}

/** Arguments of Patient.vitalSigns. */
export interface VitalSignPageArguments {
  code?: string | null;
  from?: Date | null;
  to?: Date | null;
  first?: number | null;
  after?: string | null;
}

/** Arguments after validation, shared by every patient of one batch. */
export interface VitalSignPageQuery {
  code: string | null;
  from: Date | null;
  to: Date | null;
  size: number;
  after: { effectiveAt: Date; id: string } | null;
}

/** Validates the arguments of Patient.vitalSigns; throws BAD_USER_INPUT naming the argument. */
export function vitalSignPageQuery(args: VitalSignPageArguments): VitalSignPageQuery {
  const code = args.code?.trim() || null;
  if (code !== null && !KIND_BY_CODE[code] && code !== BLOOD_PRESSURE_PANEL_CODE) {
    const codes = [...Object.keys(KIND_BY_CODE), BLOOD_PRESSURE_PANEL_CODE];
    throw HmsError.badUserInput([
      {
        field: 'code',
        message: `must be one of the vital sign LOINC codes ${codes.join(', ')}`,
      },
    ]);
  }
  if (args.from && args.to && args.from >= args.to) {
    throw HmsError.badUserInput([{ field: 'to', message: 'must be later than from' }]);
  }
  const size = pageSize(args.first);
  const key = decodeCursor(args.after, 2);
  let after: VitalSignPageQuery['after'] = null;
  if (key) {
    const [effectiveAt, id] = key;
    const instant = new Date(String(effectiveAt));
    if (typeof id !== 'string' || !isUuid(id) || Number.isNaN(instant.getTime())) {
      throw HmsError.badUserInput([{ field: 'after', message: 'is not a cursor returned by this list' }]);
    }
    after = { effectiveAt: instant, id };
  }
  return { code, from: args.from ?? null, to: args.to ?? null, size, after };
}

/**
 * Reads one page of valid measurements, newest first, for each patient with one query: a window
 * counts each patient's matches (totalCount, regardless of the cursor) and another numbers the rows
 * after the cursor.
 */
export async function vitalSignPagesOf(
  em: EntityManager,
  tenantId: string,
  patientIds: readonly string[],
  query: VitalSignPageQuery,
): Promise<Map<string, Connection<VitalSignView>>> {
  const conditions = ['tenant_id = ?', 'patient_id in (?)', "status = 'FINAL'"];
  const params: unknown[] = [tenantId, [...patientIds]];
  if (query.code === BLOOD_PRESSURE_PANEL_CODE) {
    conditions.push('code in (?)');
    params.push([KIND_SPECS.SYSTOLIC_BLOOD_PRESSURE.code, KIND_SPECS.DIASTOLIC_BLOOD_PRESSURE.code]);
  } else if (query.code) {
    conditions.push('code = ?');
    params.push(query.code);
  }
  if (query.from) {
    conditions.push('effective_at >= ?');
    params.push(query.from);
  }
  if (query.to) {
    conditions.push('effective_at < ?');
    params.push(query.to);
  }
  const cursorCondition = query.after ? 'where (effective_at, id) < (?, ?)' : '';
  if (query.after) params.push(query.after.effectiveAt, query.after.id);
  params.push(query.size + 1);

  // totals keeps each patient's count even when the cursor is past all of its rows.
  const rows = await em.execute<
    (Partial<VitalSignRow> & { counted_patient_id: string; counted_total: string | number })[]
  >(
    `with matches as (
       select v.*, count(*) over (partition by patient_id) as total
         from clinical.vital_signs v
        where ${conditions.join(' and ')}
     ),
     page as (
       select *, row_number() over (partition by patient_id order by effective_at desc, id desc) as position_in_page
         from matches
         ${cursorCondition}
     ),
     totals as (select distinct patient_id, total from matches)
     select page.*, totals.patient_id as counted_patient_id, totals.total as counted_total
       from totals
       left join page on page.patient_id = totals.patient_id and page.position_in_page <= ?
      order by totals.patient_id, page.effective_at desc, page.id desc`,
    params,
  );

  const byPatient = new Map<string, { views: VitalSignView[]; total: number }>();
  for (const row of rows) {
    const entry = byPatient.get(row.counted_patient_id) ?? { views: [], total: Number(row.counted_total) };
    if (row.id) entry.views.push(vitalSignViewOfRow(row as VitalSignRow));
    byPatient.set(row.counted_patient_id, entry);
  }
  const result = new Map<string, Connection<VitalSignView>>();
  for (const patientId of patientIds) {
    const entry = byPatient.get(patientId) ?? { views: [], total: 0 };
    result.set(
      patientId,
      toConnection(
        entry.views,
        query.size,
        entry.total,
        (view) => encodeCursor([view.effectiveAt.toISOString(), view.id]),
        query.after !== null,
      ),
    );
  }
  return result;
}
