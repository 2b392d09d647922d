import { Migration } from '@mikro-orm/migrations';
import { appliedEventsTableSql, outboxTableSql } from '@hms/service-kit';

/**
 * The outbox that identity's events and audit records go through, and the ids of events its
 * consumers applied. The outbox policies name the role hms_identity_relay, so provisioning
 * (provisionRelayRole) must have created it.
 */
export class Migration20261205000000AddOutbox extends Migration {
  override async up(): Promise<void> {
    for (const statement of outboxTableSql('identity')) this.addSql(statement);
    for (const statement of appliedEventsTableSql('identity')) this.addSql(statement);
  }

  override async down(): Promise<void> {
    this.addSql('drop table identity.applied_events');
    this.addSql('drop table identity.outbox');
  }
}
