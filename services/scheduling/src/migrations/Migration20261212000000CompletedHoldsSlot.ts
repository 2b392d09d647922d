import { Migration } from '@mikro-orm/migrations';

/**
 * A completed scheduled appointment keeps holding its practitioner's slot, so a visit finished
 * before its booked time does not offer that time again. The constraint still covers only kind
 * SCHEDULED: imported visits and walk-ins hold no slot. A no-show is marked only after its start,
 * when the slot can no longer be booked, so it frees its time as before. The patient constraint
 * is unchanged: a finished visit does not stop the patient from booking the rest of its time.
 */
export class Migration20261212000000CompletedHoldsSlot extends Migration {
  override async up(): Promise<void> {
    // Visits completed before this migration keep the old rule: a database where one was already
    // booked over would otherwise fail to build the constraint. Completions from now on hold their
    // slot, so the cut-off is the time the migration runs, written into the predicate as a constant.
    const since = new Date().toISOString();
    this.addSql('alter table scheduling.appointments drop constraint appointments_practitioner_overlap');
    this.addSql(`
      alter table scheduling.appointments add constraint appointments_practitioner_overlap exclude using gist
        (tenant_id with =, practitioner_id with =, during with &&)
        where (kind = 'SCHEDULED' and (status in ('BOOKED', 'CHECKED_IN', 'IN_PROGRESS')
          or (status = 'COMPLETED' and completed_at >= '${since}'::timestamptz)))`);
  }

  override async down(): Promise<void> {
    this.addSql('alter table scheduling.appointments drop constraint appointments_practitioner_overlap');
    this.addSql(`
      alter table scheduling.appointments add constraint appointments_practitioner_overlap exclude using gist
        (tenant_id with =, practitioner_id with =, during with &&)
        where (kind = 'SCHEDULED' and status in ('BOOKED', 'CHECKED_IN', 'IN_PROGRESS'))`);
  }
}
