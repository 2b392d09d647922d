import {
  inTenantTransaction,
  InputErrors,
  isUuid,
  type EntityManager,
  type MikroORM,
  type SubgraphContext,
} from '@hms/service-kit';
import { Department } from '../entities/department.js';
import type { Diagnosis } from '../entities/diagnosis.js';
import type { Encounter } from '../entities/encounter.js';
import { patientResolvers } from '../patients/resolvers.js';
import { createDepartment } from '../wards/store.js';
import {
  actorOf,
  ENCOUNTER_READ,
  ENCOUNTER_WRITE,
  NOTE_READ,
  tenantWith,
  tenantWithAny,
  WARD_MANAGE,
  WARD_READERS,
} from './access.js';
import { assertId } from './common.js';
import { loadersOf, type EncounterListArguments } from './loaders.js';
import {
  addDiagnoses,
  changeEncounterStatus,
  assertEncounterEditable,
  lockEncounter,
  openEncounter,
  removeDiagnosis,
  updateEncounter,
} from './store.js';
import {
  validateDiagnosis,
  type DiagnosisInput,
  type OpenEncounterInput,
  type UpdateEncounterInput,
} from './validation.js';

/**
 * Resolvers of encounters, diagnoses, departments and the Patient fields of encounters. Each checks
 * its permission first and works in one tenant transaction taken from the verified token. Fields that
 * resolve per parent go through the request's loaders.
 */
export function encounterResolvers(orm: MikroORM) {
  const patients = patientResolvers(orm);
  /** Checks the permission, then runs `work` in one transaction of the caller's tenant. */
  const write = <T>(
    context: SubgraphContext,
    permission: string,
    work: (em: EntityManager, tenantId: string) => Promise<T>,
  ): Promise<T> => {
    const tenantId = tenantWith(context, permission);
    return inTenantTransaction(orm, tenantId, (em) => work(em, tenantId));
  };

  return {
    Query: {
      encounter: async (_: unknown, args: { id: string }, context: SubgraphContext) => {
        const tenantId = tenantWith(context, ENCOUNTER_READ);
        assertId(args.id, 'id', 'encounter');
        return loadersOf(context, orm, tenantId).encounter.load(args.id);
      },

      departments: async (_: unknown, __: unknown, context: SubgraphContext) => {
        const tenantId = tenantWithAny(context, WARD_READERS);
        return inTenantTransaction(orm, tenantId, (em) =>
          em.find(Department, {}, { orderBy: { code: 'asc' } }),
        );
      },
    },

    Mutation: {
      openEncounter: (_: unknown, args: { input: OpenEncounterInput }, context: SubgraphContext) =>
        write(context, ENCOUNTER_WRITE, (em, tenantId) =>
          openEncounter(em, tenantId, args.input, new Date(), actorOf(context)),
        ),

      updateEncounter: (
        _: unknown,
        args: { id: string; input: UpdateEncounterInput },
        context: SubgraphContext,
      ) => {
        // The permission is checked before the input, so a caller without it learns nothing from errors.
        tenantWith(context, ENCOUNTER_WRITE);
        assertId(args.id, 'id', 'encounter');
        return write(context, ENCOUNTER_WRITE, (em, tenantId) =>
          updateEncounter(em, tenantId, args.id, args.input, new Date(), context),
        );
      },

      startEncounter: (_: unknown, args: { id: string }, context: SubgraphContext) =>
        transition(context, args.id, 'IN_PROGRESS', {}),
      closeEncounter: (_: unknown, args: { id: string; endedAt?: Date | null }, context: SubgraphContext) =>
        transition(context, args.id, 'CLOSED', { endedAt: args.endedAt }),
      cancelEncounter: (_: unknown, args: { id: string; reason: string }, context: SubgraphContext) =>
        transition(context, args.id, 'CANCELLED', { reason: args.reason }),
      markEncounterEnteredInError: (
        _: unknown,
        args: { id: string; reason: string },
        context: SubgraphContext,
      ) => transition(context, args.id, 'ENTERED_IN_ERROR', { reason: args.reason }),

      addDiagnosis: (
        _: unknown,
        args: { encounterId: string; input: DiagnosisInput },
        context: SubgraphContext,
      ) => {
        tenantWith(context, ENCOUNTER_WRITE);
        const errors = new InputErrors();
        const draft = validateDiagnosis(errors, args.input, 'input');
        errors.throwIfAny();
        assertId(args.encounterId, 'encounterId', 'encounter');
        return write(context, ENCOUNTER_WRITE, async (em, tenantId) => {
          const encounter = await lockEncounter(em, args.encounterId);
          assertEncounterEditable(encounter);
          const [diagnosis] = await addDiagnoses(
            em,
            tenantId,
            encounter,
            [draft],
            new Date(),
            actorOf(context),
          );
          return diagnosis!;
        });
      },

      removeDiagnosis: (_: unknown, args: { id: string; reason: string }, context: SubgraphContext) => {
        tenantWith(context, ENCOUNTER_WRITE);
        assertId(args.id, 'id', 'diagnosis');
        return write(context, ENCOUNTER_WRITE, (em, tenantId) =>
          removeDiagnosis(em, tenantId, args.id, args.reason, new Date(), actorOf(context)),
        );
      },

      createDepartment: (
        _: unknown,
        args: { input: { code: string; name: string } },
        context: SubgraphContext,
      ) =>
        write(context, WARD_MANAGE, (em, tenantId) =>
          createDepartment(em, tenantId, args.input, new Date(), context),
        ),
    },

    Encounter: {
      /**
       * Resolves references from other subgraphs through the request's loader, so N encounters cost one
       * batch. An id that is malformed or belongs to another tenant resolves to null.
       */
      __resolveReference: async (reference: { id: string }, context: SubgraphContext) => {
        const tenantId = tenantWith(context, ENCOUNTER_READ);
        if (typeof reference.id !== 'string' || !isUuid(reference.id)) return null;
        return loadersOf(context, orm, tenantId).encounter.load(reference.id);
      },
      patient: (encounter: Encounter, _: unknown, context: SubgraphContext) =>
        patients.Patient.__resolveReference({ id: encounter.patientId }, context),
      class: (encounter: Encounter) => encounter.encounterClass,
      chiefComplaint: (encounter: Encounter, _: unknown, context: SubgraphContext) => {
        tenantWith(context, ENCOUNTER_READ);
        return encounter.chiefComplaint ?? null;
      },
      attending: (encounter: Encounter) => ({ id: encounter.attendingId }),
      department: (encounter: Encounter, _: unknown, context: SubgraphContext) =>
        encounter.departmentId
          ? loadersOf(context, orm, encounter.tenantId).department.load(encounter.departmentId)
          : null,
      diagnoses: (encounter: Encounter, _: unknown, context: SubgraphContext) => {
        const tenantId = tenantWith(context, ENCOUNTER_READ);
        return loadersOf(context, orm, tenantId).diagnoses.load(encounter.id);
      },
      notes: (encounter: Encounter, _: unknown, context: SubgraphContext) => {
        const tenantId = tenantWith(context, NOTE_READ);
        return loadersOf(context, orm, tenantId).notes.load(encounter.id);
      },
      admission: (encounter: Encounter, _: unknown, context: SubgraphContext) =>
        encounter.encounterClass === 'INPATIENT'
          ? loadersOf(context, orm, encounter.tenantId).admission.load(encounter.id)
          : null,
      dischargeSummary: (encounter: Encounter, _: unknown, context: SubgraphContext) => {
        const tenantId = tenantWith(context, ENCOUNTER_READ);
        return encounter.encounterClass === 'INPATIENT'
          ? loadersOf(context, orm, tenantId).summary.load(encounter.id)
          : null;
      },
    },

    Diagnosis: {
      primary: (diagnosis: Diagnosis) => diagnosis.isPrimary,
      recordedBy: (diagnosis: Diagnosis) => ({ id: diagnosis.recordedBy }),
    },

    Patient: {
      encounters: (patient: { id: string }, args: EncounterListArguments, context: SubgraphContext) => {
        const tenantId = tenantWith(context, ENCOUNTER_READ);
        return loadersOf(context, orm, tenantId).encounterPages(args).load(patient.id);
      },
      openEncounters: (patient: { id: string }, _: unknown, context: SubgraphContext) => {
        const tenantId = tenantWith(context, ENCOUNTER_READ);
        return loadersOf(context, orm, tenantId).openEncounters.load(patient.id);
      },
      currentAdmission: (patient: { id: string }, _: unknown, context: SubgraphContext) => {
        const tenantId = tenantWith(context, ENCOUNTER_READ);
        return loadersOf(context, orm, tenantId).currentAdmission.load(patient.id);
      },
    },
  };

  function transition(
    context: SubgraphContext,
    id: string,
    target: 'IN_PROGRESS' | 'CLOSED' | 'CANCELLED' | 'ENTERED_IN_ERROR',
    options: { reason?: string; endedAt?: Date | null },
  ) {
    tenantWith(context, ENCOUNTER_WRITE);
    assertId(id, 'id', 'encounter');
    return write(context, ENCOUNTER_WRITE, (em, tenantId) =>
      changeEncounterStatus(em, tenantId, id, target, options, new Date(), context),
    );
  }
}
