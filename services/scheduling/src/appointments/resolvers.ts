import DataLoader from 'dataloader';
import {
  inTenantTransaction,
  isUuid,
  memoize,
  requirePermission,
  requireTenant,
  type Connection,
  type EntityManager,
  type MikroORM,
  type SubgraphContext,
} from '@hms/service-kit';
import { assertId, SCHEDULE_MANAGE, zoneOf } from '../schedules/resolvers.js';
import { tenantStateOf } from '../tenancy.js';
import { appointmentView, type AppointmentView } from '../views.js';
import { importPastAppointments } from './batch-import.js';
import { auditAppointmentReads } from './events.js';
import type { AppointmentRecord, CancellationReason } from './model.js';
import {
  appointmentsOnDay,
  appointmentsToRebook,
  bookAppointment,
  changeStatus,
  importPastAppointment,
  listAppointments,
  loadAppointments,
  registerWalkIn,
  rescheduleAppointment,
  type AppointmentListArguments,
  type BookAppointmentInput,
  type ImportAppointmentInput,
} from './store.js';

export const APPOINTMENT_READ = 'appointment:read';
export const APPOINTMENT_WRITE = 'appointment:write';

/** Largest number of ids one batched query reads. */
const MAX_BATCH = 500;

/** Builds the views of appointments read in a transaction and audits the reads. */
async function viewsOf(
  em: EntityManager,
  context: SubgraphContext,
  tenantId: string,
  appointments: AppointmentRecord[],
): Promise<AppointmentView[]> {
  const tenant = await tenantStateOf(em);
  await auditAppointmentReads(em, context, tenantId, tenant.readAuditEnabled, appointments);
  return appointments.map((appointment) => appointmentView(appointment, tenant.timeZone));
}

/** Runs a write in a tenant transaction and returns the changed appointment's view; writes are not read-audited. */
async function written(
  orm: MikroORM,
  tenantId: string,
  write: (em: EntityManager) => Promise<AppointmentRecord>,
): Promise<AppointmentView> {
  return inTenantTransaction(orm, tenantId, async (em) => {
    const appointment = await write(em);
    return appointmentView(appointment, (await tenantStateOf(em)).timeZone);
  });
}

/** Resolvers of appointments, their life cycle and the fields scheduling adds to User and Patient. */
export function appointmentResolvers(orm: MikroORM) {
  /**
   * The request's appointment loader: every appointment field and entity reference of one request is
   * read in one batch. It lives in the request's memo, so batches never mix requests or tenants.
   */
  const loaderOf = (context: SubgraphContext, tenantId: string) =>
    memoize(
      context,
      'appointmentLoader',
      () =>
        new DataLoader<string, AppointmentView | null>(
          async (ids) => {
            const views = await inTenantTransaction(orm, tenantId, async (em) => {
              const loaded = await loadAppointments(em, ids);
              return viewsOf(em, context, tenantId, [...loaded.values()]);
            });
            const byId = new Map(views.map((view) => [view.id, view]));
            return ids.map((id) => byId.get(id) ?? null);
          },
          { maxBatchSize: MAX_BATCH },
        ),
    );

  const list = async (
    context: SubgraphContext,
    owner: { practitionerId: string } | { patientId: string },
    args: AppointmentListArguments,
  ): Promise<Connection<AppointmentView>> => {
    requirePermission(context, APPOINTMENT_READ);
    const tenantId = requireTenant(context);
    const ownerId = 'practitionerId' in owner ? owner.practitionerId : owner.patientId;
    if (!isUuid(ownerId)) return { edges: [], totalCount: 0, pageInfo: emptyPage };
    return inTenantTransaction(orm, tenantId, async (em) => {
      const page = await listAppointments(em, owner, args);
      const views = await viewsOf(
        em,
        context,
        tenantId,
        page.edges.map((edge) => edge.node),
      );
      return {
        ...page,
        edges: page.edges.map((edge, index) => ({ cursor: edge.cursor, node: views[index]! })),
      };
    });
  };

  const transition =
    (action: 'checkIn' | 'start' | 'complete' | 'noShow') =>
    async (_: unknown, args: { id: string }, context: SubgraphContext) => {
      requirePermission(context, APPOINTMENT_WRITE);
      const tenantId = requireTenant(context);
      assertId(args.id, 'id', 'an appointment');
      return written(orm, tenantId, (em) => changeStatus(em, tenantId, args.id, action, new Date(), context));
    };

  return {
    loaderOf,
    Query: {
      appointment: async (_: unknown, args: { id: string }, context: SubgraphContext) => {
        requirePermission(context, APPOINTMENT_READ);
        const tenantId = requireTenant(context);
        assertId(args.id, 'id', 'an appointment');
        return loaderOf(context, tenantId).load(args.id);
      },

      practitionerDay: async (
        _: unknown,
        args: { practitionerId: string; date: string },
        context: SubgraphContext,
      ) => {
        requirePermission(context, APPOINTMENT_READ);
        const tenantId = requireTenant(context);
        assertId(args.practitionerId, 'practitionerId', 'a user');
        const zone = await zoneOf(orm, context, tenantId);
        const appointments = await inTenantTransaction(orm, tenantId, async (em) =>
          viewsOf(em, context, tenantId, await appointmentsOnDay(em, args.practitionerId, args.date, zone)),
        );
        return {
          practitioner: { __typename: 'User', id: args.practitionerId },
          practitionerId: args.practitionerId,
          date: args.date,
          timeZone: zone,
          appointments,
        };
      },

      appointmentsToRebook: async (
        _: unknown,
        args: { first?: number | null; after?: string | null },
        context: SubgraphContext,
      ) => {
        requirePermission(context, APPOINTMENT_READ);
        const tenantId = requireTenant(context);
        return inTenantTransaction(orm, tenantId, async (em) => {
          const page = await appointmentsToRebook(em, args, new Date());
          const views = await viewsOf(
            em,
            context,
            tenantId,
            page.edges.map((edge) => edge.node),
          );
          return {
            ...page,
            edges: page.edges.map((edge, index) => ({ cursor: edge.cursor, node: views[index]! })),
          };
        });
      },
    },

    Mutation: {
      bookAppointment: async (
        _: unknown,
        args: { input: BookAppointmentInput },
        context: SubgraphContext,
      ) => {
        requirePermission(context, APPOINTMENT_WRITE);
        const tenantId = requireTenant(context);
        return written(orm, tenantId, (em) => bookAppointment(em, tenantId, args.input, new Date(), context));
      },

      rescheduleAppointment: async (
        _: unknown,
        args: { id: string; input: { startsAt: Date; durationMinutes?: number | null } },
        context: SubgraphContext,
      ) => {
        requirePermission(context, APPOINTMENT_WRITE);
        const tenantId = requireTenant(context);
        assertId(args.id, 'id', 'an appointment');
        return written(orm, tenantId, (em) =>
          rescheduleAppointment(em, tenantId, args.id, args.input, new Date(), context),
        );
      },

      cancelAppointment: async (
        _: unknown,
        args: { id: string; reason: CancellationReason; note?: string | null },
        context: SubgraphContext,
      ) => {
        requirePermission(context, APPOINTMENT_WRITE);
        const tenantId = requireTenant(context);
        assertId(args.id, 'id', 'an appointment');
        return written(orm, tenantId, (em) =>
          changeStatus(em, tenantId, args.id, 'cancel', new Date(), context, {
            reason: args.reason,
            note: args.note,
          }),
        );
      },

      checkInAppointment: transition('checkIn'),
      startAppointment: transition('start'),
      completeAppointment: transition('complete'),
      markAppointmentNoShow: transition('noShow'),

      registerWalkIn: async (
        _: unknown,
        args: { input: { practitionerId: string; patientId: string; durationMinutes?: number | null } },
        context: SubgraphContext,
      ) => {
        requirePermission(context, APPOINTMENT_WRITE);
        const tenantId = requireTenant(context);
        return written(orm, tenantId, (em) => registerWalkIn(em, tenantId, args.input, new Date(), context));
      },

      importPastAppointment: async (
        _: unknown,
        args: { input: ImportAppointmentInput },
        context: SubgraphContext,
      ) => {
        requirePermission(context, SCHEDULE_MANAGE);
        const tenantId = requireTenant(context);
        return written(
          orm,
          tenantId,
          async (em) =>
            (await importPastAppointment(em, tenantId, args.input, new Date(), context)).appointment,
        );
      },

      importPastAppointments: async (
        _: unknown,
        args: { inputs: ImportAppointmentInput[] },
        context: SubgraphContext,
      ) => {
        requirePermission(context, SCHEDULE_MANAGE);
        const tenantId = requireTenant(context);
        return inTenantTransaction(orm, tenantId, (em) =>
          importPastAppointments(em, tenantId, args.inputs, new Date(), context),
        );
      },
    },

    Appointment: {
      /**
       * Resolves references from other subgraphs through the request's loader, so a list of N
       * appointments costs one batch. An id that is malformed or of another tenant resolves to null.
       */
      __resolveReference: async (reference: { id: string }, context: SubgraphContext) => {
        requirePermission(context, APPOINTMENT_READ);
        const tenantId = requireTenant(context);
        if (typeof reference.id !== 'string' || !isUuid(reference.id)) return null;
        return loaderOf(context, tenantId).load(reference.id);
      },
    },

    User: {
      appointments: (user: { id: string }, args: AppointmentListArguments, context: SubgraphContext) =>
        list(context, { practitionerId: user.id }, args),
    },

    Patient: {
      appointments: (patient: { id: string }, args: AppointmentListArguments, context: SubgraphContext) =>
        list(context, { patientId: patient.id }, args),
    },
  };
}

const emptyPage = { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null };
