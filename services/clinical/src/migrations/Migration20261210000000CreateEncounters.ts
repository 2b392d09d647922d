import { Migration } from '@mikro-orm/migrations';
import { tenantIsolationSql } from '@hms/service-kit';

/** The SQLSTATE the signed-content trigger raises (object_not_in_prerequisite_state). */
export const SIGNED_CONTENT_SQLSTATE = '55000';

const TABLES = [
  'departments',
  'encounters',
  'diagnoses',
  'wards',
  'beds',
  'admissions',
  'bed_assignments',
  'notes',
  'note_versions',
  'discharge_summaries',
  'discharge_summary_versions',
];

/**
 * Encounters with their diagnoses, departments, wards and beds, admissions with their bed assignments,
 * clinical notes and discharge summaries. Every table is tenant-owned, under row-level security, and
 * every key and index starts with tenant_id.
 *
 * Two rules live in the database so that no code path can break them.
 * - A bed has one patient at a time, and a patient one bed. Bed assignments carry their period as a
 *   tstzrange, and exclusion constraints (btree_gist) reject two overlapping periods of one bed or of
 *   one patient, for current and historic stays alike.
 * - Signed content is never overwritten. A trigger rejects UPDATE and DELETE of a signed note or
 *   discharge summary version, so an amendment can only add a version.
 */
export class Migration20261210000000CreateEncounters extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table clinical.departments (
        tenant_id uuid not null,
        id uuid not null,
        code text not null,
        name text not null,
        created_at timestamptz not null,
        constraint departments_pkey primary key (tenant_id, id),
        constraint departments_tenant_id_code_key unique (tenant_id, code)
      )`);

    this.addSql(`
      create table clinical.encounters (
        tenant_id uuid not null,
        id uuid not null,
        patient_id uuid not null,
        class text not null check (class in ('AMBULATORY', 'EMERGENCY', 'INPATIENT')),
        status text not null check (status in ('OPEN', 'IN_PROGRESS', 'CLOSED', 'CANCELLED', 'ENTERED_IN_ERROR')),
        status_reason text,
        chief_complaint text,
        department_id uuid,
        attending_id uuid not null,
        started_at timestamptz not null,
        ended_at timestamptz,
        source_id text,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        constraint encounters_pkey primary key (tenant_id, id),
        constraint encounters_tenant_id_source_id_key unique (tenant_id, source_id),
        constraint encounters_period_check check (ended_at is null or ended_at >= started_at),
        constraint encounters_patient_fkey foreign key (tenant_id, patient_id)
          references clinical.patients (tenant_id, id),
        constraint encounters_department_fkey foreign key (tenant_id, department_id)
          references clinical.departments (tenant_id, id)
      )`);
    // Serves Patient.encounters, newest first, and its keyset pagination.
    this.addSql(
      'create index encounters_tenant_id_patient_id_started_at_idx on clinical.encounters (tenant_id, patient_id, started_at desc, id desc)',
    );

    this.addSql(`
      create table clinical.diagnoses (
        tenant_id uuid not null,
        id uuid not null,
        encounter_id uuid not null,
        code_system text check (code_system in ('ICD10', 'SNOMED_CT')),
        code text,
        text text not null,
        is_primary boolean not null,
        recorded_at timestamptz not null,
        recorded_by uuid not null,
        source_id text,
        removed_at timestamptz,
        removed_by uuid,
        removal_reason text,
        constraint diagnoses_pkey primary key (tenant_id, id),
        constraint diagnoses_tenant_id_source_id_key unique (tenant_id, source_id),
        constraint diagnoses_code_check check ((code_system is null) = (code is null)),
        constraint diagnoses_encounter_fkey foreign key (tenant_id, encounter_id)
          references clinical.encounters (tenant_id, id)
      )`);
    this.addSql(
      'create index diagnoses_tenant_id_encounter_id_idx on clinical.diagnoses (tenant_id, encounter_id)',
    );
    this.addSql(
      'create unique index diagnoses_tenant_id_encounter_id_primary_key on clinical.diagnoses (tenant_id, encounter_id) where is_primary and removed_at is null',
    );

    this.addSql(`
      create table clinical.wards (
        tenant_id uuid not null,
        id uuid not null,
        code text not null,
        name text not null,
        department_id uuid,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        constraint wards_pkey primary key (tenant_id, id),
        constraint wards_tenant_id_code_key unique (tenant_id, code),
        constraint wards_department_fkey foreign key (tenant_id, department_id)
          references clinical.departments (tenant_id, id)
      )`);

    this.addSql(`
      create table clinical.beds (
        tenant_id uuid not null,
        id uuid not null,
        ward_id uuid not null,
        code text not null,
        status text not null check (status in ('FREE', 'OCCUPIED', 'CLEANING', 'BLOCKED')),
        blocked_reason text,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        constraint beds_pkey primary key (tenant_id, id),
        constraint beds_tenant_id_ward_id_code_key unique (tenant_id, ward_id, code),
        constraint beds_ward_fkey foreign key (tenant_id, ward_id) references clinical.wards (tenant_id, id)
      )`);

    this.addSql(`
      create table clinical.admissions (
        tenant_id uuid not null,
        encounter_id uuid not null,
        patient_id uuid not null,
        ward_id uuid not null,
        bed_id uuid,
        admitted_at timestamptz not null,
        discharge_ordered_at timestamptz,
        discharge_ordered_by uuid,
        discharged_at timestamptz,
        constraint admissions_pkey primary key (tenant_id, encounter_id),
        constraint admissions_period_check check (discharged_at is null or discharged_at > admitted_at),
        constraint admissions_encounter_fkey foreign key (tenant_id, encounter_id)
          references clinical.encounters (tenant_id, id),
        constraint admissions_ward_fkey foreign key (tenant_id, ward_id) references clinical.wards (tenant_id, id),
        constraint admissions_bed_fkey foreign key (tenant_id, bed_id) references clinical.beds (tenant_id, id)
      )`);
    // A patient is in at most one current stay.
    this.addSql(
      'create unique index admissions_tenant_id_patient_id_current_key on clinical.admissions (tenant_id, patient_id) where discharged_at is null',
    );
    this.addSql(
      'create index admissions_tenant_id_ward_id_current_idx on clinical.admissions (tenant_id, ward_id) where discharged_at is null',
    );

    this.addSql(`
      create table clinical.bed_assignments (
        tenant_id uuid not null,
        id uuid not null,
        encounter_id uuid not null,
        patient_id uuid not null,
        ward_id uuid not null,
        bed_id uuid not null,
        started_at timestamptz not null,
        ended_at timestamptz,
        period tstzrange generated always as (tstzrange(started_at, ended_at, '[)')) stored,
        constraint bed_assignments_pkey primary key (tenant_id, id),
        constraint bed_assignments_period_check check (ended_at is null or ended_at > started_at),
        constraint bed_assignments_admission_fkey foreign key (tenant_id, encounter_id)
          references clinical.admissions (tenant_id, encounter_id),
        constraint bed_assignments_bed_fkey foreign key (tenant_id, bed_id) references clinical.beds (tenant_id, id),
        constraint bed_assignments_one_patient_per_bed exclude using gist
          (tenant_id with =, bed_id with =, period with &&),
        constraint bed_assignments_one_bed_per_patient exclude using gist
          (tenant_id with =, patient_id with =, period with &&)
      )`);
    this.addSql(
      'create index bed_assignments_tenant_id_encounter_id_idx on clinical.bed_assignments (tenant_id, encounter_id, started_at)',
    );
    this.addSql(
      'create index bed_assignments_tenant_id_ward_id_current_idx on clinical.bed_assignments (tenant_id, ward_id) where ended_at is null',
    );

    this.addSql(`
      create table clinical.notes (
        tenant_id uuid not null,
        id uuid not null,
        encounter_id uuid not null,
        patient_id uuid not null,
        kind text not null
          check (kind in ('PROGRESS', 'SOAP', 'NURSING', 'ADMISSION', 'CONSULTATION', 'PROCEDURE', 'OTHER')),
        status text not null check (status in ('DRAFT', 'SIGNED')),
        author_id uuid not null,
        current_version integer not null,
        signed_at timestamptz,
        signed_by uuid,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        constraint notes_pkey primary key (tenant_id, id),
        constraint notes_encounter_fkey foreign key (tenant_id, encounter_id)
          references clinical.encounters (tenant_id, id)
      )`);
    this.addSql(
      'create index notes_tenant_id_encounter_id_idx on clinical.notes (tenant_id, encounter_id, created_at)',
    );

    this.addSql(`
      create table clinical.note_versions (
        tenant_id uuid not null,
        id uuid not null,
        note_id uuid not null,
        version integer not null check (version > 0),
        text text,
        soap jsonb,
        written_by uuid not null,
        written_at timestamptz not null,
        amendment_reason text,
        signed boolean not null,
        constraint note_versions_pkey primary key (tenant_id, id),
        constraint note_versions_tenant_id_note_id_version_key unique (tenant_id, note_id, version),
        constraint note_versions_note_fkey foreign key (tenant_id, note_id) references clinical.notes (tenant_id, id)
      )`);

    this.addSql(`
      create table clinical.discharge_summaries (
        tenant_id uuid not null,
        id uuid not null,
        encounter_id uuid not null,
        patient_id uuid not null,
        status text not null check (status in ('DRAFT', 'SIGNED')),
        author_id uuid not null,
        current_version integer not null,
        signed_at timestamptz,
        signed_by uuid,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        constraint discharge_summaries_pkey primary key (tenant_id, id),
        constraint discharge_summaries_tenant_id_encounter_id_key unique (tenant_id, encounter_id),
        constraint discharge_summaries_encounter_fkey foreign key (tenant_id, encounter_id)
          references clinical.encounters (tenant_id, id)
      )`);

    this.addSql(`
      create table clinical.discharge_summary_versions (
        tenant_id uuid not null,
        id uuid not null,
        summary_id uuid not null,
        version integer not null check (version > 0),
        content jsonb not null,
        written_by uuid not null,
        written_at timestamptz not null,
        amendment_reason text,
        signed boolean not null,
        constraint discharge_summary_versions_pkey primary key (tenant_id, id),
        constraint discharge_summary_versions_tenant_id_summary_id_version_key unique (tenant_id, summary_id, version),
        constraint discharge_summary_versions_summary_fkey foreign key (tenant_id, summary_id)
          references clinical.discharge_summaries (tenant_id, id)
      )`);

    // Signing sets signed on a draft version, which the trigger allows. From then on the row is final.
    this.addSql(`
      create function clinical.reject_signed_change() returns trigger language plpgsql as $$
      begin
        if old.signed then
          raise exception 'Signed content of %.% cannot be changed or deleted. Add an amendment instead.',
            tg_table_name, old.id using errcode = '${SIGNED_CONTENT_SQLSTATE}';
        end if;
        return case when tg_op = 'DELETE' then old else new end;
      end $$`);
    for (const table of ['note_versions', 'discharge_summary_versions']) {
      this.addSql(
        `create trigger ${table}_signed_is_final before update or delete on clinical.${table} for each row execute function clinical.reject_signed_change()`,
      );
    }

    for (const table of TABLES) {
      for (const statement of tenantIsolationSql(`clinical.${table}`)) this.addSql(statement);
    }
  }

  override async down(): Promise<void> {
    for (const table of [...TABLES].reverse()) this.addSql(`drop table clinical.${table}`);
    this.addSql('drop function clinical.reject_signed_change()');
  }
}
