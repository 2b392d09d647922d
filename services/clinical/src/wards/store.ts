import { LockMode } from '@mikro-orm/postgresql';
import { BedStatusChangedSchema, DepartmentCreatedSchema, WardChangedSchema } from '@hms/proto-schemas';
import { HmsError, InputErrors, newId, type EntityManager, type EventOrigin } from '@hms/service-kit';
import { Bed, type BedStatus } from '../entities/bed.js';
import { Department } from '../entities/department.js';
import { Ward } from '../entities/ward.js';
import { checkOptionalId, flushOrConflict, MAX_SHORT_TEXT, requiredText } from '../encounters/common.js';
import { Operation, recordChange } from '../encounters/events.js';
import { assertDepartmentExists } from '../encounters/store.js';

/**
 * Departments, wards and beds, and every change of a bed's status. Functions take the entity manager
 * of a tenant transaction.
 */

const WARD = 'Ward';
const BED = 'Bed';
/** Maximum number of beds one request may add, so one mutation cannot grow a ward without bound. */
const MAX_BEDS_PER_REQUEST = 200;
/** Codes are short identifiers staff type and print on bed labels, such as ICU or 12A. */
const CODE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;
const CODE_RULE = '1 to 32 letters, digits, dots, underscores or hyphens, starting with a letter or digit';

export interface CreateWardInput {
  code: string;
  name: string;
  departmentId?: string | null;
  bedCodes?: string[] | null;
}

export interface UpdateWardInput {
  code?: string | null;
  name?: string | null;
  departmentId?: string | null;
}

function checkCode(errors: InputErrors, value: string | null | undefined, field: string): string {
  const code = value?.trim() ?? '';
  if (!CODE.test(code)) errors.add(field, `must be ${CODE_RULE}`);
  return code;
}

function checkBedCodes(errors: InputErrors, codes: readonly string[], field: string): string[] {
  if (codes.length > MAX_BEDS_PER_REQUEST)
    errors.add(field, `must list at most ${MAX_BEDS_PER_REQUEST} beds`);
  const checked = codes.map((code, index) => checkCode(errors, code, `${field}[${index}]`));
  if (new Set(checked).size !== checked.length) errors.add(field, 'must not repeat a code');
  return checked;
}

/** Creates a department. Its code is unique in the tenant. */
export async function createDepartment(
  em: EntityManager,
  tenantId: string,
  input: { code: string; name: string },
  now: Date,
  origin: EventOrigin,
): Promise<Department> {
  const errors = new InputErrors();
  const code = checkCode(errors, input.code, 'input.code');
  const name = requiredText(errors, input.name, 'input.name', MAX_SHORT_TEXT);
  errors.throwIfAny();

  const department = em.create(Department, { id: newId(), tenantId, code, name, createdAt: now });
  await flushOrConflict(em);
  await recordChange(em, origin, tenantId, {
    type: 'clinical.department.created',
    subject: { type: 'Department', id: department.id },
    payloadSchema: DepartmentCreatedSchema,
    payload: { departmentId: department.id },
    audit: { action: 'department.create', operation: Operation.CREATE },
  });
  return department;
}

/** Creates a ward with its first beds, all FREE. */
export async function createWard(
  em: EntityManager,
  tenantId: string,
  input: CreateWardInput,
  now: Date,
  origin: EventOrigin,
): Promise<Ward> {
  const errors = new InputErrors();
  const code = checkCode(errors, input.code, 'input.code');
  const name = requiredText(errors, input.name, 'input.name', MAX_SHORT_TEXT);
  checkOptionalId(errors, input.departmentId, 'input.departmentId', 'department');
  const bedCodes = checkBedCodes(errors, input.bedCodes ?? [], 'input.bedCodes');
  errors.throwIfAny();
  await assertDepartmentExists(em, input.departmentId ?? null);

  const ward = em.create(Ward, {
    id: newId(),
    tenantId,
    code,
    name,
    departmentId: input.departmentId ?? null,
    createdAt: now,
    updatedAt: now,
  });
  await flushOrConflict(em);
  const beds = await insertBeds(em, tenantId, ward.id, bedCodes, now);
  await recordChange(em, origin, tenantId, {
    type: 'clinical.ward.created',
    subject: { type: WARD, id: ward.id },
    payloadSchema: WardChangedSchema,
    payload: { wardId: ward.id, addedBedIds: beds.map((bed) => bed.id) },
    audit: { action: 'ward.create', operation: Operation.CREATE },
  });
  return ward;
}

/** Changes a ward's code, name or department. */
export async function updateWard(
  em: EntityManager,
  tenantId: string,
  id: string,
  input: UpdateWardInput,
  now: Date,
  origin: EventOrigin,
): Promise<Ward> {
  const errors = new InputErrors();
  const draft: { code?: string; name?: string; departmentId?: string | null } = {};
  if (input.code !== undefined) draft.code = checkCode(errors, input.code, 'input.code');
  if (input.name !== undefined) draft.name = requiredText(errors, input.name, 'input.name', MAX_SHORT_TEXT);
  if (input.departmentId !== undefined) {
    checkOptionalId(errors, input.departmentId, 'input.departmentId', 'department');
    draft.departmentId = input.departmentId;
  }
  errors.throwIfAny();

  const ward = await em.findOne(Ward, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!ward) throw HmsError.notFound(WARD, id);
  if (draft.departmentId !== undefined) await assertDepartmentExists(em, draft.departmentId);
  const changedFields = (Object.keys(draft) as (keyof typeof draft)[]).filter(
    (field) => (ward[field] ?? null) !== (draft[field] ?? null),
  );
  em.assign(ward, { ...draft, updatedAt: now });
  await flushOrConflict(em);
  await recordChange(em, origin, tenantId, {
    type: 'clinical.ward.updated',
    subject: { type: WARD, id },
    payloadSchema: WardChangedSchema,
    payload: { wardId: id, changedFields },
    audit: { action: 'ward.update', operation: Operation.UPDATE, changedFields },
  });
  return ward;
}

/** Adds FREE beds to a ward. A code already used in the ward is a CONFLICT. */
export async function addBeds(
  em: EntityManager,
  tenantId: string,
  wardId: string,
  codes: readonly string[],
  now: Date,
  origin: EventOrigin,
): Promise<Ward> {
  const errors = new InputErrors();
  const bedCodes = checkBedCodes(errors, codes, 'codes');
  if (bedCodes.length === 0) errors.add('codes', 'must list at least one bed code');
  errors.throwIfAny();

  const ward = await em.findOne(Ward, { id: wardId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!ward) throw HmsError.notFound(WARD, wardId);
  const taken = await em.find(Bed, { wardId, code: { $in: bedCodes } }, { fields: ['code'] });
  if (taken.length > 0) {
    throw HmsError.conflict(`The ward already has beds ${taken.map((bed) => bed.code).join(', ')}.`, {
      field: 'codes',
      codes: taken.map((bed) => bed.code),
    });
  }
  const beds = await insertBeds(em, tenantId, wardId, bedCodes, now);
  ward.updatedAt = now;
  await flushOrConflict(em);
  await recordChange(em, origin, tenantId, {
    type: 'clinical.ward.beds_added',
    subject: { type: WARD, id: wardId },
    payloadSchema: WardChangedSchema,
    payload: { wardId, addedBedIds: beds.map((bed) => bed.id) },
    audit: { action: 'ward.add_beds', operation: Operation.UPDATE, changedFields: ['beds'] },
  });
  return ward;
}

async function insertBeds(
  em: EntityManager,
  tenantId: string,
  wardId: string,
  codes: readonly string[],
  now: Date,
): Promise<Bed[]> {
  const beds = codes.map((code) =>
    em.create(Bed, { id: newId(), tenantId, wardId, code, status: 'FREE', createdAt: now, updatedAt: now }),
  );
  await flushOrConflict(em);
  return beds;
}

/**
 * Moves a bed from one of the `from` statuses to `to` under a row lock, and writes
 * `clinical.bed.status_changed` with its audit record. Throws CONFLICT naming the bed's status
 * otherwise, so two requests racing for one bed cannot both move it.
 */
export async function changeBedStatus(
  em: EntityManager,
  tenantId: string,
  bedId: string,
  from: readonly BedStatus[],
  to: BedStatus,
  now: Date,
  origin: EventOrigin,
  blockedReason: string | null = null,
): Promise<Bed> {
  const bed = await em.findOne(Bed, { id: bedId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!bed) throw HmsError.notFound(BED, bedId);
  if (!from.includes(bed.status)) {
    throw HmsError.conflict(
      `Bed ${bed.code} is ${bed.status}. It can become ${to} only from ${from.join(' or ')}.`,
      {
        bedId,
        status: bed.status,
        allowedFrom: from,
      },
    );
  }
  const previous = bed.status;
  em.assign(bed, { status: to, blockedReason: to === 'BLOCKED' ? blockedReason : null, updatedAt: now });
  await flushOrConflict(em);
  await recordChange(em, origin, tenantId, {
    type: 'clinical.bed.status_changed',
    subject: { type: BED, id: bedId },
    payloadSchema: BedStatusChangedSchema,
    payload: { bedId, wardId: bed.wardId, status: to, previousStatus: previous },
    audit: {
      action: 'bed.status_change',
      operation: Operation.UPDATE,
      changedFields: to === 'BLOCKED' || previous === 'BLOCKED' ? ['status', 'blockedReason'] : ['status'],
    },
  });
  return bed;
}

/** Blocks a FREE or CLEANING bed, such as for repair, with a reason shown to staff. */
export async function blockBed(
  em: EntityManager,
  tenantId: string,
  bedId: string,
  reason: string,
  now: Date,
  origin: EventOrigin,
): Promise<Bed> {
  const errors = new InputErrors();
  const text = requiredText(errors, reason, 'reason', MAX_SHORT_TEXT);
  errors.throwIfAny();
  return changeBedStatus(em, tenantId, bedId, ['FREE', 'CLEANING'], 'BLOCKED', now, origin, text);
}

/** Returns the first bed of a ward, by code, with no stay overlapping [from, to). Undefined when none. */
export async function bedFreeOver(
  em: EntityManager,
  wardId: string,
  from: Date,
  to: Date,
): Promise<string | undefined> {
  const rows = await em.execute<{ id: string }[]>(
    `select b.id from clinical.beds b
      where b.ward_id = ?
        and not exists (
          select 1 from clinical.bed_assignments a
           where a.tenant_id = b.tenant_id and a.bed_id = b.id and a.period && tstzrange(?, ?, '[)'))
      order by b.code limit 1`,
    [wardId, from, to],
  );
  return rows[0]?.id;
}
