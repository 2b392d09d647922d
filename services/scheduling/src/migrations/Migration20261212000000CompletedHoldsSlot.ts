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
    // NOTE: a database where a visit completed early was already booked over holds a COMPLETED and
    // a BOOKED appointment of one practitioner at the same time, and this constraint fails to build.
    // Cancel or move one of each such pair first: the error names the conflicting key.
    this.addSql('alter table scheduling.appointments drop constraint appointments_practitioner_overlap');
    this.addSql(`
      alter table scheduling.appointments add constraint appointments_practitioner_overlap exclude using gist
        (tenant_id with =, practitioner_id with =, during with &&)
        where (kind = 'SCHEDULED' and status in ('BOOKED', 'CHECKED_IN', 'IN_PROGRESS', 'COMPLETED'))`);
  }

  override async down(): Promise<void> {
    this.addSql('alter table scheduling.appointments drop constraint appointments_practitioner_overlap');
    this.addSql(`
      alter table scheduling.appointments add constraint appointments_practitioner_overlap exclude using gist
        (tenant_id with =, practitioner_id with =, during with &&)
        where (kind = 'SCHEDULED' and status in ('BOOKED', 'CHECKED_IN', 'IN_PROGRESS'))`);
  }
}
