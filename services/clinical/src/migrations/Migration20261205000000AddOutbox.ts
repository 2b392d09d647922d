import { Migration } from '@mikro-orm/migrations';
import { appliedEventsTableSql, outboxTableSql } from '@hms/service-kit';

/**
 * The outbox that clinical's events and audit records go through, the ids of events its consumers
 * applied, and the tenant's read-audit switch. The outbox policies name the role hms_clinical_relay,
 * so provisioning (provisionRelayRole) must have created it.
 */
export class Migration20261205000000AddOutbox extends Migration {
  override async up(): Promise<void> {
    for (const statement of outboxTableSql('clinical')) this.addSql(statement);
    for (const statement of appliedEventsTableSql('clinical')) this.addSql(statement);
    // TODO: identity's tenant settings events will fill this column; until then every tenant
    // audits reads, the default the architecture asks for.
    this.addSql(
      'alter table clinical.tenant_settings add column if not exists read_audit_enabled boolean not null default true',
    );
  }

  override async down(): Promise<void> {
    this.addSql('alter table clinical.tenant_settings drop column read_audit_enabled');
    this.addSql('drop table clinical.applied_events');
    this.addSql('drop table clinical.outbox');
  }
}
