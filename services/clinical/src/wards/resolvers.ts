import {
  inTenantTransaction,
  type EntityManager,
  type MikroORM,
  type SubgraphContext,
} from '@hms/service-kit';
import type { Admission } from '../entities/admission.js';
import type { Bed } from '../entities/bed.js';
import type { BedAssignment } from '../entities/bed-assignment.js';
import { Ward } from '../entities/ward.js';
import {
  actorOf,
  ADMISSION_WRITE,
  BED_UPDATE,
  ENCOUNTER_WRITE,
  tenantWith,
  tenantWithAny,
  WARD_MANAGE,
  WARD_READERS,
} from '../encounters/access.js';
import { assertId } from '../encounters/common.js';
import { loadersOf } from '../encounters/loaders.js';
import { patientResolvers } from '../patients/resolvers.js';
import {
  admitPatient,
  orderDischarge,
  recordDeparture,
  recordPastAdmission,
  transferPatient,
  type AdmitPatientInput,
  type RecordPastAdmissionInput,
} from './admissions.js';
import {
  addBeds,
  blockBed,
  changeBedStatus,
  createWard,
  updateWard,
  type CreateWardInput,
  type UpdateWardInput,
} from './store.js';

/** Resolvers of wards, beds, admissions and the census. */
export function wardResolvers(orm: MikroORM) {
  const patients = patientResolvers(orm);

  /** Checks the permission, validates the ids, then runs `work` in one transaction of the caller's tenant. */
  const write = <T>(
    context: SubgraphContext,
    permission: string,
    ids: [string, string, string][],
    work: (em: EntityManager, tenantId: string) => Promise<T>,
  ): Promise<T> => {
    const tenantId = tenantWith(context, permission);
    for (const [id, field, entity] of ids) assertId(id, field, entity);
    return inTenantTransaction(orm, tenantId, (em) => work(em, tenantId));
  };
  const loaders = (context: SubgraphContext, tenantId: string) => loadersOf(context, orm, tenantId);

  return {
    Query: {
      wards: (_: unknown, __: unknown, context: SubgraphContext) => {
        const tenantId = tenantWithAny(context, WARD_READERS);
        return inTenantTransaction(orm, tenantId, (em) => em.find(Ward, {}, { orderBy: { code: 'asc' } }));
      },
      ward: (_: unknown, args: { id: string }, context: SubgraphContext) => {
        const tenantId = tenantWithAny(context, WARD_READERS);
        assertId(args.id, 'id', 'ward');
        return loaders(context, tenantId).ward.load(args.id);
      },
    },

    Mutation: {
      createWard: (_: unknown, args: { input: CreateWardInput }, context: SubgraphContext) =>
        write(context, WARD_MANAGE, [], (em, tenantId) =>
          createWard(em, tenantId, args.input, new Date(), context),
        ),
      updateWard: (_: unknown, args: { id: string; input: UpdateWardInput }, context: SubgraphContext) =>
        write(context, WARD_MANAGE, [[args.id, 'id', 'ward']], (em, tenantId) =>
          updateWard(em, tenantId, args.id, args.input, new Date(), context),
        ),
      addBeds: (_: unknown, args: { wardId: string; codes: string[] }, context: SubgraphContext) =>
        write(context, WARD_MANAGE, [[args.wardId, 'wardId', 'ward']], (em, tenantId) =>
          addBeds(em, tenantId, args.wardId, args.codes, new Date(), context),
        ),
      blockBed: (_: unknown, args: { id: string; reason: string }, context: SubgraphContext) =>
        write(context, WARD_MANAGE, [[args.id, 'id', 'bed']], (em, tenantId) =>
          blockBed(em, tenantId, args.id, args.reason, new Date(), context),
        ),
      unblockBed: (_: unknown, args: { id: string }, context: SubgraphContext) =>
        write(context, WARD_MANAGE, [[args.id, 'id', 'bed']], (em, tenantId) =>
          changeBedStatus(em, tenantId, args.id, ['BLOCKED'], 'FREE', new Date(), context),
        ),
      markBedCleaned: (_: unknown, args: { id: string }, context: SubgraphContext) =>
        write(context, BED_UPDATE, [[args.id, 'id', 'bed']], (em, tenantId) =>
          changeBedStatus(em, tenantId, args.id, ['CLEANING'], 'FREE', new Date(), context),
        ),
      admitPatient: (_: unknown, args: { input: AdmitPatientInput }, context: SubgraphContext) =>
        write(context, ADMISSION_WRITE, [], (em, tenantId) =>
          admitPatient(em, tenantId, args.input, new Date(), actorOf(context)),
        ),
      transferPatient: (_: unknown, args: { encounterId: string; bedId: string }, context: SubgraphContext) =>
        write(
          context,
          ADMISSION_WRITE,
          [
            [args.encounterId, 'encounterId', 'encounter'],
            [args.bedId, 'bedId', 'bed'],
          ],
          (em, tenantId) =>
            transferPatient(em, tenantId, args.encounterId, args.bedId, new Date(), actorOf(context)),
        ),
      orderDischarge: (_: unknown, args: { encounterId: string }, context: SubgraphContext) =>
        write(context, ENCOUNTER_WRITE, [[args.encounterId, 'encounterId', 'encounter']], (em, tenantId) =>
          orderDischarge(em, tenantId, args.encounterId, new Date(), actorOf(context)),
        ),
      recordDeparture: (
        _: unknown,
        args: { encounterId: string; departedAt?: Date | null },
        context: SubgraphContext,
      ) =>
        write(context, ADMISSION_WRITE, [[args.encounterId, 'encounterId', 'encounter']], (em, tenantId) =>
          recordDeparture(em, tenantId, args.encounterId, args.departedAt, new Date(), actorOf(context)),
        ),
      recordPastAdmission: (
        _: unknown,
        args: { input: RecordPastAdmissionInput },
        context: SubgraphContext,
      ) => {
        // Diagnoses are the doctor's part of a stay, so recording them needs encounter:write as well.
        if (args.input.diagnoses?.length) tenantWith(context, ENCOUNTER_WRITE);
        return write(context, ADMISSION_WRITE, [], (em, tenantId) =>
          recordPastAdmission(em, tenantId, args.input, new Date(), actorOf(context)),
        );
      },
    },

    Ward: {
      department: (ward: Ward, _: unknown, context: SubgraphContext) =>
        ward.departmentId ? loaders(context, ward.tenantId).department.load(ward.departmentId) : null,
      beds: (ward: Ward, _: unknown, context: SubgraphContext) =>
        loaders(context, ward.tenantId).beds.load(ward.id),
      census: (ward: Ward, _: unknown, context: SubgraphContext) =>
        loaders(context, ward.tenantId).census.load(ward.id),
    },

    Bed: {
      ward: (bed: Bed, _: unknown, context: SubgraphContext) =>
        loaders(context, bed.tenantId).ward.load(bed.wardId),
      blockedReason: (bed: Bed) => bed.blockedReason ?? null,
      occupant: (bed: Bed, _: unknown, context: SubgraphContext) =>
        bed.status === 'OCCUPIED' ? loaders(context, bed.tenantId).occupant.load(bed.id) : null,
    },

    BedAssignment: {
      bed: (assignment: BedAssignment, _: unknown, context: SubgraphContext) =>
        loaders(context, assignment.tenantId).bed.load(assignment.bedId),
      ward: (assignment: BedAssignment, _: unknown, context: SubgraphContext) =>
        loaders(context, assignment.tenantId).ward.load(assignment.wardId),
      encounter: (assignment: BedAssignment, _: unknown, context: SubgraphContext) =>
        loaders(context, assignment.tenantId).encounter.load(assignment.encounterId),
      patient: (assignment: BedAssignment, _: unknown, context: SubgraphContext) =>
        patients.Patient.__resolveReference({ id: assignment.patientId }, context),
      from: (assignment: BedAssignment) => assignment.startedAt,
      to: (assignment: BedAssignment) => assignment.endedAt ?? null,
    },

    Admission: {
      encounter: (admission: Admission, _: unknown, context: SubgraphContext) =>
        loaders(context, admission.tenantId).encounter.load(admission.encounterId),
      ward: (admission: Admission, _: unknown, context: SubgraphContext) =>
        loaders(context, admission.tenantId).ward.load(admission.wardId),
      bed: (admission: Admission, _: unknown, context: SubgraphContext) =>
        admission.bedId ? loaders(context, admission.tenantId).bed.load(admission.bedId) : null,
      dischargeOrderedBy: (admission: Admission) =>
        admission.dischargeOrderedBy ? { id: admission.dischargeOrderedBy } : null,
      assignments: (admission: Admission, _: unknown, context: SubgraphContext) =>
        loaders(context, admission.tenantId).assignments.load(admission.encounterId),
    },
  };
}
