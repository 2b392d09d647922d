import { HmsError, type EntityManager, type EventOrigin, type FieldError } from '@hms/service-kit';
import { assertTenantWritable } from '../tenancy.js';
import { appointmentView, type AppointmentView } from '../views.js';
import { importPastAppointment, NOT_A_PATIENT, NOT_A_USER, type ImportAppointmentInput } from './store.js';

/** Maximum number of items in one importPastAppointments call. */
export const MAX_IMPORT_BATCH = 100;

export type ImportItemErrorCode = 'BAD_USER_INPUT' | 'UNKNOWN_PARTICIPANT' | 'CONFLICT';

export interface ImportItemError {
  code: ImportItemErrorCode;
  message: string;
  field: string | null;
}

export interface ImportItemResult {
  sourceId: string;
  appointment: AppointmentView | null;
  created: boolean;
  errors: ImportItemError[];
}

/**
 * Imports past visits one by one in the caller's transaction, each under its own savepoint: an item
 * that fails validation or conflicts is rolled back alone, with nothing of it written, and the
 * others are kept. Each stored item writes its events and audit record as importPastAppointment
 * does, and an item whose sourceId was imported before (also earlier in the same batch) returns
 * that appointment with `created` false. Errors other than per-item input errors and conflicts
 * (such as a suspended tenant or a database failure) are thrown, so the whole batch rolls back.
 */
export async function importPastAppointments(
  em: EntityManager,
  tenantId: string,
  inputs: readonly ImportAppointmentInput[],
  now: Date,
  origin: EventOrigin,
): Promise<ImportItemResult[]> {
  if (inputs.length > MAX_IMPORT_BATCH) {
    throw HmsError.badUserInput([
      {
        field: 'inputs',
        message: `must contain at most ${MAX_IMPORT_BATCH} items; send more in several calls`,
      },
    ]);
  }
  const { timeZone } = await assertTenantWritable(em);
  const results: ImportItemResult[] = [];

  for (const [index, input] of inputs.entries()) {
    await em.execute('savepoint import_item');
    try {
      const { appointment, created } = await importPastAppointment(
        em,
        tenantId,
        input,
        now,
        origin,
        `inputs.${index}`,
      );
      await em.execute('release savepoint import_item');
      results.push({
        sourceId: input.sourceId,
        appointment: appointmentView(appointment, timeZone),
        created,
        errors: [],
      });
    } catch (error) {
      const errors = itemErrorsOf(error);
      if (!errors) throw error;
      await em.execute('rollback to savepoint import_item');
      await em.execute('release savepoint import_item');
      results.push({ sourceId: input.sourceId, appointment: null, created: false, errors });
    }
  }
  return results;
}

/** Turns an error of one item into its per-item errors, or undefined when it must fail the batch. */
function itemErrorsOf(error: unknown): ImportItemError[] | undefined {
  if (!(error instanceof HmsError)) return undefined;
  if (error.code === 'CONFLICT') return [{ code: 'CONFLICT', message: error.message, field: null }];
  if (error.code !== 'BAD_USER_INPUT') return undefined;

  const fields = (error.extensions.fields ?? []) as FieldError[];
  return fields.map(({ field, message }) => ({
    code: message === NOT_A_USER || message === NOT_A_PATIENT ? 'UNKNOWN_PARTICIPANT' : 'BAD_USER_INPUT',
    message: `${field} ${message}`,
    field,
  }));
}
