import { Migration } from '@mikro-orm/migrations';
import { appliedEventsTableSql } from '@hms/service-kit';

/**
 * The ids of the events the hms.audit.v1 consumer has applied, written in the transaction of each
 * append, as the service kit's consumer requires.
 */
export class Migration20261205010000AddAppliedEvents extends Migration {
  override async up(): Promise<void> {
    for (const statement of appliedEventsTableSql('audit')) this.addSql(statement);
  }

  override async down(): Promise<void> {
    this.addSql('drop table audit.applied_events');
  }
}
