import { Migration } from '@mikro-orm/migrations';
import {
  appliedEventsTableSql,
  outboxTableSql,
  tenantIsolationSql,
  userReplicaTableSql,
} from '@hms/service-kit';

/** Appointment statuses that hold their time: a cancelled, missed or finished visit frees it. */
const HOLDING_STATUSES = "('BOOKED', 'CHECKED_IN', 'IN_PROGRESS')";

/**
 * The scheduling schema: copies of identity's tenants and practitioners and of clinical's patient
 * ids, practitioner schedules, time off, appointments and waitlists, plus the outbox and applied
 * events. Every table is tenant-owned and under row-level security, and every index starts with
 * tenant_id. The outbox policies name hms_scheduling_relay, so provisionRelayRole must run first.
 */
export class Migration20261207000000CreateScheduling extends Migration {
  override async up(): Promise<void> {
    // Identity's tenant settings and status. A row created by a status event has updated_at at
    // -infinity, so the first settings event still applies (see upsertTenantSettings in the kit).
    this.addSql(`
      create table scheduling.tenant_settings (
        tenant_id uuid primary key,
        time_zone text not null default 'UTC',
        read_audit_enabled boolean not null default true,
        status text not null default 'ACTIVE' check (status in ('ACTIVE', 'SUSPENDED', 'OFFBOARDED')),
        status_changed_at timestamptz not null default '-infinity',
        updated_at timestamptz not null default '-infinity'
      )`);

    // Identity users, so a booking can check that its practitioner exists and is active.
    for (const statement of userReplicaTableSql('scheduling.practitioners')) this.addSql(statement);

    // Ids of clinical's patients, from clinical.patient.registered.
    this.addSql(`
      create table scheduling.patients (
        tenant_id uuid not null,
        id uuid not null,
        registered_at timestamptz not null,
        constraint patients_pkey primary key (tenant_id, id)
      )`);

    // Weekly hours and breaks are JSON arrays of { weekday (1 = Monday), start, end } in minutes
    // after local midnight; the service validates them on every write.
    this.addSql(`
      create table scheduling.schedules (
        tenant_id uuid not null,
        id uuid not null,
        practitioner_id uuid not null,
        department text not null,
        location text,
        slot_minutes smallint not null check (slot_minutes between 5 and 480),
        weekly_hours jsonb not null,
        breaks jsonb not null default '[]',
        active boolean not null default true,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        constraint schedules_pkey primary key (tenant_id, id),
        constraint schedules_tenant_id_practitioner_id_key unique (tenant_id, practitioner_id)
      )`);
    this.addSql(
      'create index schedules_tenant_id_department_idx on scheduling.schedules (tenant_id, department)',
    );

    // Holidays (whole days, tenant-wide) and leave (whole days, one practitioner) are local dates;
    // blocks are intervals of one practitioner's time.
    this.addSql(`
      create table scheduling.time_off (
        tenant_id uuid not null,
        id uuid not null,
        kind text not null check (kind in ('HOLIDAY', 'LEAVE', 'BLOCK')),
        practitioner_id uuid,
        start_date date,
        end_date date,
        during tstzrange,
        note text,
        created_at timestamptz not null,
        constraint time_off_pkey primary key (tenant_id, id),
        constraint time_off_shape check (
          (kind = 'HOLIDAY' and practitioner_id is null and start_date <= end_date and during is null)
          or (kind = 'LEAVE' and practitioner_id is not null and start_date <= end_date and during is null)
          or (kind = 'BLOCK' and practitioner_id is not null and start_date is null and end_date is null
              and during is not null and not isempty(during)))
      )`);
    this.addSql(
      'create index time_off_tenant_id_practitioner_id_idx on scheduling.time_off (tenant_id, practitioner_id, kind)',
    );

    // The two exclusion constraints are what prevents double booking: PostgreSQL rejects the second
    // of two overlapping intervals even when both transactions checked the slot at the same moment.
    // Walk-ins queue by arrival and imported visits are history, so neither holds a practitioner's
    // slot; a booking that explicitly allows it may overlap the patient's other appointments.
    this.addSql(`
      create table scheduling.appointments (
        tenant_id uuid not null,
        id uuid not null,
        practitioner_id uuid not null,
        patient_id uuid not null,
        department text not null,
        location text,
        during tstzrange not null check (not isempty(during) and lower_inc(during) and not upper_inc(during)),
        status text not null
          check (status in ('BOOKED', 'CHECKED_IN', 'IN_PROGRESS', 'COMPLETED', 'CANCELLED', 'NO_SHOW')),
        kind text not null check (kind in ('SCHEDULED', 'WALK_IN', 'IMPORTED')),
        patient_overlap_allowed boolean not null default false,
        cancellation_reason text,
        cancellation_note text,
        source_id text,
        checked_in_at timestamptz,
        started_at timestamptz,
        completed_at timestamptz,
        cancelled_at timestamptz,
        no_show_at timestamptz,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        constraint appointments_pkey primary key (tenant_id, id),
        constraint appointments_practitioner_overlap exclude using gist
          (tenant_id with =, practitioner_id with =, during with &&)
          where (kind = 'SCHEDULED' and status in ${HOLDING_STATUSES}),
        constraint appointments_patient_overlap exclude using gist
          (tenant_id with =, patient_id with =, during with &&)
          where (kind <> 'IMPORTED' and not patient_overlap_allowed and status in ${HOLDING_STATUSES})
      )`);
    this.addSql(
      'create unique index appointments_tenant_id_source_id_key on scheduling.appointments (tenant_id, source_id) where source_id is not null',
    );
    this.addSql(
      'create index appointments_tenant_id_practitioner_id_starts_idx on scheduling.appointments (tenant_id, practitioner_id, lower(during), id)',
    );
    this.addSql(
      'create index appointments_tenant_id_patient_id_starts_idx on scheduling.appointments (tenant_id, patient_id, lower(during), id)',
    );

    this.addSql(`
      create table scheduling.waitlist_entries (
        tenant_id uuid not null,
        id uuid not null,
        practitioner_id uuid not null,
        patient_id uuid not null,
        day date not null,
        note text,
        status text not null check (status in ('WAITING', 'BOOKED', 'REMOVED')),
        appointment_id uuid,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        constraint waitlist_entries_pkey primary key (tenant_id, id)
      )`);
    this.addSql(
      "create unique index waitlist_entries_waiting_key on scheduling.waitlist_entries (tenant_id, practitioner_id, day, patient_id) where status = 'WAITING'",
    );
    this.addSql(
      'create index waitlist_entries_tenant_id_day_idx on scheduling.waitlist_entries (tenant_id, practitioner_id, day, created_at, id)',
    );

    for (const table of [
      'tenant_settings',
      'patients',
      'schedules',
      'time_off',
      'appointments',
      'waitlist_entries',
    ]) {
      for (const statement of tenantIsolationSql(`scheduling.${table}`)) this.addSql(statement);
    }
    for (const statement of outboxTableSql('scheduling')) this.addSql(statement);
    for (const statement of appliedEventsTableSql('scheduling')) this.addSql(statement);
  }

  override async down(): Promise<void> {
    for (const table of [
      'applied_events',
      'outbox',
      'waitlist_entries',
      'appointments',
      'time_off',
      'schedules',
      'patients',
      'practitioners',
      'tenant_settings',
    ]) {
      this.addSql(`drop table scheduling.${table}`);
    }
  }
}
