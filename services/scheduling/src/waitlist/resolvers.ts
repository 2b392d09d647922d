import {
  inTenantTransaction,
  requirePermission,
  requireTenant,
  type MikroORM,
  type SubgraphContext,
} from '@hms/service-kit';
import { APPOINTMENT_READ, APPOINTMENT_WRITE } from '../appointments/resolvers.js';
import { assertId } from '../schedules/resolvers.js';
import { tenantStateOf } from '../tenancy.js';
import { appointmentView, reference } from '../views.js';
import {
  addToWaitlist,
  bookFromWaitlist,
  listWaitlist,
  removeFromWaitlist,
  type WaitlistEntryRecord,
} from './store.js';

function entryView(entry: WaitlistEntryRecord, position: number | null) {
  return {
    ...entry,
    practitioner: reference('User', entry.practitionerId),
    patient: reference('Patient', entry.patientId),
    position,
  };
}

type EntryView = ReturnType<typeof entryView>;

/** Resolvers of waitlists. `slotsFor` and `appointmentOf` come from the schedule and appointment resolvers. */
export function waitlistResolvers(
  orm: MikroORM,
  slotsFor: (
    context: SubgraphContext,
    args: { practitionerId: string; from: string; to: string },
  ) => Promise<unknown[]>,
  appointmentOf: (context: SubgraphContext, id: string) => Promise<unknown>,
) {
  return {
    Query: {
      waitlist: async (
        _: unknown,
        args: { practitionerId: string; day: string },
        context: SubgraphContext,
      ) => {
        requirePermission(context, APPOINTMENT_READ);
        const tenantId = requireTenant(context);
        assertId(args.practitionerId, 'practitionerId', 'a user');
        const entries = await inTenantTransaction(orm, tenantId, (em) =>
          listWaitlist(em, args.practitionerId, args.day),
        );
        return entries.map((entry, index) => entryView(entry, index + 1));
      },
    },

    Mutation: {
      addToWaitlist: async (
        _: unknown,
        args: { input: { practitionerId: string; patientId: string; day: string; note?: string | null } },
        context: SubgraphContext,
      ) => {
        requirePermission(context, APPOINTMENT_WRITE);
        const tenantId = requireTenant(context);
        return inTenantTransaction(orm, tenantId, async (em) => {
          const entry = await addToWaitlist(em, tenantId, args.input, new Date(), context);
          const waiting = await listWaitlist(em, entry.practitionerId, entry.day);
          return entryView(entry, waiting.findIndex((other) => other.id === entry.id) + 1);
        });
      },

      removeFromWaitlist: async (_: unknown, args: { id: string }, context: SubgraphContext) => {
        requirePermission(context, APPOINTMENT_WRITE);
        const tenantId = requireTenant(context);
        assertId(args.id, 'id', 'a waitlist entry');
        const entry = await inTenantTransaction(orm, tenantId, (em) =>
          removeFromWaitlist(em, tenantId, args.id, new Date(), context),
        );
        return entryView(entry, null);
      },

      bookFromWaitlist: async (
        _: unknown,
        args: { id: string; startsAt: Date; durationMinutes?: number | null },
        context: SubgraphContext,
      ) => {
        requirePermission(context, APPOINTMENT_WRITE);
        const tenantId = requireTenant(context);
        assertId(args.id, 'id', 'a waitlist entry');
        return inTenantTransaction(orm, tenantId, async (em) => {
          const appointment = await bookFromWaitlist(em, tenantId, args.id, args, new Date(), context);
          return appointmentView(appointment, (await tenantStateOf(em)).timeZone);
        });
      },
    },

    WaitlistEntry: {
      offeredSlots: (entry: EntryView, _: unknown, context: SubgraphContext) =>
        entry.status === 'WAITING'
          ? slotsFor(context, { practitionerId: entry.practitionerId, from: entry.day, to: entry.day })
          : [],
      appointment: (entry: EntryView, _: unknown, context: SubgraphContext) =>
        entry.appointmentId ? appointmentOf(context, entry.appointmentId) : null,
    },
  };
}
