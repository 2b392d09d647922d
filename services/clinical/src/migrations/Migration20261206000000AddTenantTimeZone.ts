import { Migration } from '@mikro-orm/migrations';

/**
 * The tenant's time zone, copied from identity's tenant events with the other clinical settings.
 * Tenants without an event yet keep UTC, the zone clinical used before.
 */
export class Migration20261206000000AddTenantTimeZone extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      "alter table clinical.tenant_settings add column if not exists time_zone text not null default 'UTC'",
    );
  }

  override async down(): Promise<void> {
    this.addSql('alter table clinical.tenant_settings drop column time_zone');
  }
}
