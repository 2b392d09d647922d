import {
  HmsError,
  inTenantTransaction,
  isUuid,
  requirePermission,
  requireTenant,
  type MikroORM,
  type SubgraphContext,
} from '@hms/service-kit';
import { requestTenantState, tenantStateOf } from '../tenancy.js';
import { scheduleView, slotView, timeOffView } from '../views.js';
import {
  addTimeOff,
  freeSlots,
  listSchedules,
  removeTimeOff,
  schedulesOf,
  setSchedule,
  timeOffBetween,
  type FreeSlotArguments,
  type SetScheduleInput,
} from './store.js';

export const SCHEDULE_READ = 'schedule:read';
export const SCHEDULE_MANAGE = 'schedule:manage';

/** Rejects an id that is not a UUID before it reaches PostgreSQL, where it would fail as a type error. */
export function assertId(id: string, field: string, what = 'an'): void {
  if (!isUuid(id)) throw HmsError.badUserInput([{ field, message: `must be ${what} id (a UUID)` }]);
}

/** Reads the time zone of the request's tenant once per request. */
export function zoneOf(orm: MikroORM, context: SubgraphContext, tenantId: string): Promise<string> {
  return requestTenantState(context, () => inTenantTransaction(orm, tenantId, tenantStateOf)).then(
    (tenant) => tenant.timeZone,
  );
}

/** Resolvers of schedules, time off and free slots. */
export function scheduleResolvers(orm: MikroORM) {
  /** Computes free slots in a tenant transaction; shared by freeSlots and the day and waitlist views. */
  const slotsFor = async (context: SubgraphContext, args: FreeSlotArguments) => {
    requirePermission(context, SCHEDULE_READ);
    const tenantId = requireTenant(context);
    const zone = await zoneOf(orm, context, tenantId);
    const slots = await inTenantTransaction(orm, tenantId, (em) => freeSlots(em, args, zone, new Date()));
    return slots.map((slot) => slotView(slot, zone));
  };

  const scheduleOfUser = async (practitionerId: string, context: SubgraphContext) => {
    requirePermission(context, SCHEDULE_READ);
    const tenantId = requireTenant(context);
    if (!isUuid(practitionerId)) return null;
    const zone = await zoneOf(orm, context, tenantId);
    const schedule = await inTenantTransaction(orm, tenantId, async (em) =>
      (await schedulesOf(em, [practitionerId])).get(practitionerId),
    );
    return schedule ? scheduleView(schedule, zone) : null;
  };

  return {
    slotsFor,
    Query: {
      schedule: (_: unknown, args: { practitionerId: string }, context: SubgraphContext) => {
        requirePermission(context, SCHEDULE_READ);
        assertId(args.practitionerId, 'practitionerId', 'a user');
        return scheduleOfUser(args.practitionerId, context);
      },

      schedules: async (_: unknown, args: { department?: string | null }, context: SubgraphContext) => {
        requirePermission(context, SCHEDULE_READ);
        const tenantId = requireTenant(context);
        const zone = await zoneOf(orm, context, tenantId);
        const schedules = await inTenantTransaction(orm, tenantId, (em) =>
          listSchedules(em, args.department?.trim() || undefined),
        );
        return schedules.map((schedule) => scheduleView(schedule, zone));
      },

      timeOff: async (
        _: unknown,
        args: { from: string; to: string; practitionerId?: string | null },
        context: SubgraphContext,
      ) => {
        requirePermission(context, SCHEDULE_READ);
        const tenantId = requireTenant(context);
        if (args.practitionerId) assertId(args.practitionerId, 'practitionerId', 'a user');
        if (args.to < args.from) {
          throw HmsError.badUserInput([{ field: 'to', message: `must be on or after from (${args.from})` }]);
        }
        const window = {
          start: new Date(`${args.from}T00:00:00Z`),
          end: new Date(Date.parse(`${args.to}T00:00:00Z`) + 2 * 86_400_000),
        };
        window.start.setUTCDate(window.start.getUTCDate() - 1);
        const entries = await inTenantTransaction(orm, tenantId, (em) =>
          timeOffBetween(
            em,
            args.from,
            args.to,
            window,
            args.practitionerId ? [args.practitionerId] : undefined,
          ),
        );
        return entries.map(timeOffView);
      },

      freeSlots: (_: unknown, args: FreeSlotArguments, context: SubgraphContext) => slotsFor(context, args),
    },

    Mutation: {
      setSchedule: async (_: unknown, args: { input: SetScheduleInput }, context: SubgraphContext) => {
        requirePermission(context, SCHEDULE_MANAGE);
        const tenantId = requireTenant(context);
        return inTenantTransaction(orm, tenantId, async (em) => {
          const schedule = await setSchedule(em, tenantId, args.input, new Date(), context);
          return scheduleView(schedule, (await tenantStateOf(em)).timeZone);
        });
      },

      addHoliday: async (
        _: unknown,
        args: { input: { startDate: string; endDate: string; note?: string | null } },
        context: SubgraphContext,
      ) => {
        requirePermission(context, SCHEDULE_MANAGE);
        const tenantId = requireTenant(context);
        const entry = await inTenantTransaction(orm, tenantId, (em) =>
          addTimeOff(em, tenantId, { kind: 'HOLIDAY', ...args.input }, new Date(), context),
        );
        return timeOffView(entry);
      },

      addLeave: async (
        _: unknown,
        args: { input: { practitionerId: string; startDate: string; endDate: string; note?: string | null } },
        context: SubgraphContext,
      ) => {
        requirePermission(context, SCHEDULE_MANAGE);
        const tenantId = requireTenant(context);
        const entry = await inTenantTransaction(orm, tenantId, (em) =>
          addTimeOff(em, tenantId, { kind: 'LEAVE', ...args.input }, new Date(), context),
        );
        return timeOffView(entry);
      },

      addScheduleBlock: async (
        _: unknown,
        args: { input: { practitionerId: string; startsAt: Date; endsAt: Date; note?: string | null } },
        context: SubgraphContext,
      ) => {
        requirePermission(context, SCHEDULE_MANAGE);
        const tenantId = requireTenant(context);
        const entry = await inTenantTransaction(orm, tenantId, (em) =>
          addTimeOff(em, tenantId, { kind: 'BLOCK', ...args.input }, new Date(), context),
        );
        return timeOffView(entry);
      },

      removeTimeOff: async (_: unknown, args: { id: string }, context: SubgraphContext) => {
        requirePermission(context, SCHEDULE_MANAGE);
        const tenantId = requireTenant(context);
        assertId(args.id, 'id', 'a time off');
        const entry = await inTenantTransaction(orm, tenantId, (em) =>
          removeTimeOff(em, tenantId, args.id, context),
        );
        return timeOffView(entry);
      },
    },

    User: {
      schedule: (user: { id: string }, _: unknown, context: SubgraphContext) =>
        scheduleOfUser(user.id, context),
    },
  };
}
