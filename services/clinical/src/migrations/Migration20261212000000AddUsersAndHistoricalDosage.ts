import { Migration } from '@mikro-orm/migrations';
import { userReplicaTableSql } from '@hms/service-kit';

/**
 * Adds clinical's copy of identity's users, so an encounter's attending can be checked as an active
 * user of the tenant, and lets imported history record a prescription whose source gave no dose or no
 * frequency. Only a COMPLETED or STOPPED prescription may lack them: an ACTIVE one is an order to give
 * the drug, and CANCELLED is reached only from ACTIVE. A prescription records its frequency when
 * as_needed is set.
 */
export class Migration20261212000000AddUsersAndHistoricalDosage extends Migration {
  override async up(): Promise<void> {
    for (const statement of userReplicaTableSql('clinical.users')) this.addSql(statement);

    this.addSql(`
      alter table clinical.prescriptions
        alter column dose_value drop not null,
        alter column dose_unit drop not null,
        alter column as_needed drop not null`);
    this.addSql(`
      alter table clinical.prescriptions
        add constraint prescriptions_dose_check check ((dose_value is null) = (dose_unit is null)),
        add constraint prescriptions_frequency_check check (
          as_needed is not null
          or (times_per_period is null and period is null and period_unit is null and as_needed_for is null)),
        add constraint prescriptions_dosage_recorded_check check (
          status in ('COMPLETED', 'STOPPED') or (dose_value is not null and as_needed is not null))`);
  }

  override async down(): Promise<void> {
    this.addSql(`
      alter table clinical.prescriptions
        drop constraint prescriptions_dosage_recorded_check,
        drop constraint prescriptions_frequency_check,
        drop constraint prescriptions_dose_check`);
    this.addSql(`
      alter table clinical.prescriptions
        alter column dose_value set not null,
        alter column dose_unit set not null,
        alter column as_needed set not null`);
    this.addSql('drop table clinical.users');
  }
}
