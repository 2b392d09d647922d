import { Migration } from '@mikro-orm/migrations';
import { serviceDatabaseRoles, tenantIsolationSql } from '@hms/service-kit';

const APP_ROLE = serviceDatabaseRoles('audit').app;

/**
 * The audit log, the head of each tenant's hash chain and security incident reports. Every table is
 * tenant-owned and under row-level security, and every index starts with tenant_id.
 *
 * The audit log is append-only at two levels. The app role keeps only SELECT and INSERT on
 * audit_records, because provisioning's default privileges also grant it UPDATE and DELETE. A
 * trigger then raises on UPDATE, DELETE and TRUNCATE for every role, the owner included. A superuser
 * can still disable the trigger, which is why the hash chain exists: such a change is detectable.
 */
export class Migration20261205000000CreateAuditSchema extends Migration {
  override async up(): Promise<void> {
    // Columns mirror the AuditRecord protobuf message. Instants are stored with millisecond precision
    // (see records/input.ts), and the hash covers exactly what is stored (see records/canonical.ts).
    this.addSql(`
      create table audit.audit_records (
        tenant_id uuid not null,
        id uuid not null,
        seq bigint not null check (seq > 0),
        occurred_at timestamptz not null,
        received_at timestamptz not null,
        actor_kind text not null
          check (actor_kind in ('UNSPECIFIED', 'USER', 'SERVICE_ACCOUNT', 'PLATFORM_OPERATOR', 'SYSTEM')),
        actor_id text,
        actor_session_id text,
        actor_roles text[] not null default '{}',
        actor_ip text,
        actor_user_agent text,
        action text not null,
        operation text not null
          check (operation in ('CREATE', 'READ', 'UPDATE', 'DELETE', 'LOGIN', 'LOGOUT', 'PERMISSION_CHANGE', 'SECURITY', 'OTHER')),
        entity_type text,
        entity_id text,
        patient_id uuid,
        changed_fields text[] not null default '{}',
        outcome text not null check (outcome in ('SUCCESS', 'FAILURE', 'DENIED')),
        reason text,
        trace_id text,
        request_id text,
        producer text not null,
        prev_hash bytea not null check (length(prev_hash) = 32),
        hash bytea not null check (length(hash) = 32),
        constraint audit_records_pkey primary key (tenant_id, id),
        constraint audit_records_tenant_id_seq_key unique (tenant_id, seq)
      )`);

    // TODO: retention. Records leave only as whole periods of one tenant, never one by one: a retention
    // job (its own role, allowed past the trigger) deletes a tenant's records received before a period
    // boundary and stores a checkpoint (tenant, last removed seq, its hash) that verification then
    // starts from instead of the 32 zero bytes. Until that exists, nothing is ever removed.

    // One index per filter of the auditRecords query, each ending with the keyset order of the list
    // (newest first), so a filtered page is one index range scan.
    this.addSql(
      'create index audit_records_tenant_id_occurred_at_idx on audit.audit_records (tenant_id, occurred_at desc, id desc)',
    );
    this.addSql(
      'create index audit_records_tenant_id_patient_id_idx on audit.audit_records (tenant_id, patient_id, occurred_at desc, id desc) where patient_id is not null',
    );
    this.addSql(
      'create index audit_records_tenant_id_actor_id_idx on audit.audit_records (tenant_id, actor_id, occurred_at desc, id desc) where actor_id is not null',
    );
    this.addSql(
      'create index audit_records_tenant_id_entity_idx on audit.audit_records (tenant_id, entity_type, entity_id, occurred_at desc, id desc) where entity_type is not null',
    );
    this.addSql(
      'create index audit_records_tenant_id_action_idx on audit.audit_records (tenant_id, action, occurred_at desc, id desc)',
    );

    this.addSql(`
      create function audit.reject_audit_record_change() returns trigger language plpgsql as $$
      begin
        raise exception 'audit records are append-only: % on audit.audit_records is not allowed', tg_op
          using errcode = 'insufficient_privilege';
      end
      $$`);
    this.addSql(`
      create trigger audit_records_append_only
        before update or delete on audit.audit_records
        for each row execute function audit.reject_audit_record_change()`);
    // Row triggers do not fire on TRUNCATE, so it needs a statement trigger of its own.
    this.addSql(`
      create trigger audit_records_no_truncate
        before truncate on audit.audit_records
        for each statement execute function audit.reject_audit_record_change()`);

    // The last link of each tenant's chain. Appends lock this row, which serializes them per tenant
    // and lets verification notice records missing from the end of the chain.
    this.addSql(`
      create table audit.chain_heads (
        tenant_id uuid primary key,
        seq bigint not null check (seq >= 0),
        hash bytea not null check (length(hash) = 32),
        updated_at timestamptz not null
      )`);

    this.addSql(`
      create table audit.security_incidents (
        tenant_id uuid not null,
        id uuid not null,
        summary text not null,
        description text,
        occurred_at timestamptz,
        patient_id uuid,
        severity text not null check (severity in ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL')),
        status text not null check (status in ('OPEN', 'RESOLVED')),
        reported_at timestamptz not null,
        reported_by text not null,
        resolved_at timestamptz,
        resolved_by text,
        resolution text,
        constraint security_incidents_pkey primary key (tenant_id, id),
        constraint security_incidents_resolution_check check ((status = 'RESOLVED') = (resolved_at is not null))
      )`);
    this.addSql(
      'create index security_incidents_tenant_id_status_idx on audit.security_incidents (tenant_id, status, reported_at desc, id desc)',
    );
    this.addSql(
      'create index security_incidents_tenant_id_reported_at_idx on audit.security_incidents (tenant_id, reported_at desc, id desc)',
    );

    for (const table of ['audit_records', 'chain_heads', 'security_incidents']) {
      for (const statement of tenantIsolationSql(`audit.${table}`)) this.addSql(statement);
    }

    // Provisioning's default privileges grant the app role SELECT, INSERT, UPDATE and DELETE on every
    // table the owner creates; take back what an append-only log and its evidence must not allow.
    this.addSql(`revoke update, delete, truncate on audit.audit_records from ${APP_ROLE}`);
    this.addSql(`revoke delete, truncate on audit.chain_heads from ${APP_ROLE}`);
    this.addSql(`revoke delete, truncate on audit.security_incidents from ${APP_ROLE}`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table audit.security_incidents');
    this.addSql('drop table audit.chain_heads');
    this.addSql('drop table audit.audit_records');
    this.addSql('drop function audit.reject_audit_record_change()');
  }
}
