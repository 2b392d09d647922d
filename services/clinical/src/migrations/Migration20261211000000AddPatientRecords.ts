import { Migration } from '@mikro-orm/migrations';
import { tenantIsolationSql } from '@hms/service-kit';

/**
 * Vital sign panels and their measurements, allergies, problems and prescriptions. Every table is
 * tenant-owned, under row-level security, keyed by (tenant_id, id) and tied to its patient by a
 * (tenant_id, patient_id) foreign key, so no row can point at another tenant's patient.
 *
 * encounter_id is a plain nullable uuid here; the foreign key to encounters comes with the migration
 * that follows the encounters table.
 *
 * source_id is an importer's external reference. unique (tenant_id, source_id) allows any number of
 * rows without one, since PostgreSQL treats nulls as distinct.
 */
export class Migration20261211000000AddPatientRecords extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table clinical.vital_sign_panels (
        tenant_id uuid not null,
        id uuid not null,
        patient_id uuid not null,
        encounter_id uuid,
        effective_at timestamptz not null,
        status text not null check (status in ('FINAL', 'ENTERED_IN_ERROR')),
        source_id text,
        recorded_at timestamptz not null,
        recorded_by uuid not null,
        entered_in_error_at timestamptz,
        entered_in_error_reason text,
        entered_in_error_by uuid,
        constraint vital_sign_panels_pkey primary key (tenant_id, id),
        constraint vital_sign_panels_tenant_id_source_id_key unique (tenant_id, source_id),
        constraint vital_sign_panels_patient_fkey foreign key (tenant_id, patient_id)
          references clinical.patients (tenant_id, id),
        constraint vital_sign_panels_entered_in_error_check
          check ((status = 'ENTERED_IN_ERROR') = (entered_in_error_at is not null))
      )`);
    this.addSql(
      'create index vital_sign_panels_tenant_id_patient_id_idx on clinical.vital_sign_panels (tenant_id, patient_id, effective_at)',
    );

    // value is in the kind's canonical unit; original_value and original_unit are what was entered.
    this.addSql(`
      create table clinical.vital_signs (
        tenant_id uuid not null,
        id uuid not null,
        panel_id uuid not null,
        patient_id uuid not null,
        encounter_id uuid,
        kind text not null check (kind in ('BODY_TEMPERATURE', 'HEART_RATE', 'RESPIRATORY_RATE',
          'SYSTOLIC_BLOOD_PRESSURE', 'DIASTOLIC_BLOOD_PRESSURE', 'OXYGEN_SATURATION', 'BODY_HEIGHT',
          'BODY_WEIGHT', 'BODY_MASS_INDEX', 'HEAD_CIRCUMFERENCE')),
        code text not null,
        value numeric not null,
        unit text not null,
        original_value numeric not null,
        original_unit text not null,
        effective_at timestamptz not null,
        status text not null check (status in ('FINAL', 'ENTERED_IN_ERROR')),
        bmi_height_source text check (bmi_height_source in ('SAME_PANEL', 'LATEST_HEIGHT')),
        bmi_height_id uuid,
        position smallint not null,
        constraint vital_signs_pkey primary key (tenant_id, id),
        constraint vital_signs_panel_fkey foreign key (tenant_id, panel_id)
          references clinical.vital_sign_panels (tenant_id, id),
        constraint vital_signs_patient_fkey foreign key (tenant_id, patient_id)
          references clinical.patients (tenant_id, id),
        constraint vital_signs_bmi_height_fkey foreign key (tenant_id, bmi_height_id)
          references clinical.vital_signs (tenant_id, id) deferrable initially deferred
      )`);
    // Serves the latest value per kind and the series of one kind, newest first.
    this.addSql(
      'create index vital_signs_tenant_id_patient_id_kind_idx on clinical.vital_signs (tenant_id, patient_id, kind, effective_at desc, id desc)',
    );
    this.addSql(
      'create index vital_signs_tenant_id_patient_id_effective_at_idx on clinical.vital_signs (tenant_id, patient_id, effective_at desc, id desc)',
    );
    this.addSql(
      'create index vital_signs_tenant_id_panel_id_idx on clinical.vital_signs (tenant_id, panel_id)',
    );
    this.addSql(
      'create index vital_signs_tenant_id_bmi_height_id_idx on clinical.vital_signs (tenant_id, bmi_height_id) where bmi_height_id is not null',
    );

    // substance_key is the substance name folded for matching (see records/concepts.ts).
    this.addSql(`
      create table clinical.allergies (
        tenant_id uuid not null,
        id uuid not null,
        patient_id uuid not null,
        encounter_id uuid,
        source_id text,
        substance_system text check (substance_system in ('RXNORM', 'SNOMED_CT')),
        substance_code text,
        substance_display text not null,
        substance_key text not null,
        type text check (type in ('ALLERGY', 'INTOLERANCE')),
        category text not null check (category in ('MEDICATION', 'FOOD', 'ENVIRONMENT', 'BIOLOGIC')),
        criticality text check (criticality in ('LOW', 'HIGH', 'UNABLE_TO_ASSESS')),
        clinical_status text check (clinical_status in ('ACTIVE', 'INACTIVE', 'RESOLVED')),
        verification_status text not null
          check (verification_status in ('UNCONFIRMED', 'CONFIRMED', 'REFUTED', 'ENTERED_IN_ERROR')),
        reactions jsonb not null default '[]',
        onset_at timestamptz,
        note text,
        recorded_at timestamptz not null,
        recorded_by uuid not null,
        status_reason text,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        constraint allergies_pkey primary key (tenant_id, id),
        constraint allergies_tenant_id_source_id_key unique (tenant_id, source_id),
        constraint allergies_patient_fkey foreign key (tenant_id, patient_id)
          references clinical.patients (tenant_id, id),
        constraint allergies_substance_code_check check ((substance_system is null) = (substance_code is null)),
        constraint allergies_entered_in_error_check
          check ((verification_status = 'ENTERED_IN_ERROR') = (clinical_status is null))
      )`);
    this.addSql(
      'create index allergies_tenant_id_patient_id_idx on clinical.allergies (tenant_id, patient_id, recorded_at desc)',
    );

    this.addSql(`
      create table clinical.problems (
        tenant_id uuid not null,
        id uuid not null,
        patient_id uuid not null,
        encounter_id uuid,
        source_id text,
        condition_system text check (condition_system in ('ICD_10', 'ICD_10_CM', 'SNOMED_CT')),
        condition_code text,
        condition_display text not null,
        status text not null check (status in ('ACTIVE', 'RECURRENCE', 'RESOLVED')),
        onset_at timestamptz,
        resolved_at timestamptz,
        note text,
        recorded_at timestamptz not null,
        recorded_by uuid not null,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        constraint problems_pkey primary key (tenant_id, id),
        constraint problems_tenant_id_source_id_key unique (tenant_id, source_id),
        constraint problems_patient_fkey foreign key (tenant_id, patient_id)
          references clinical.patients (tenant_id, id),
        constraint problems_condition_code_check check ((condition_system is null) = (condition_code is null)),
        constraint problems_resolved_at_check check ((status = 'RESOLVED') = (resolved_at is not null)),
        constraint problems_resolved_after_onset_check check (resolved_at >= onset_at)
      )`);
    this.addSql(
      'create index problems_tenant_id_patient_id_idx on clinical.problems (tenant_id, patient_id, status)',
    );

    this.addSql(`
      create table clinical.prescriptions (
        tenant_id uuid not null,
        id uuid not null,
        patient_id uuid not null,
        encounter_id uuid,
        source_id text,
        medication_system text check (medication_system in ('RXNORM', 'SNOMED_CT')),
        medication_code text,
        medication_display text not null,
        medication_key text not null,
        dose_value numeric not null check (dose_value > 0),
        dose_unit text not null,
        route text,
        times_per_period smallint check (times_per_period > 0),
        period numeric check (period > 0),
        period_unit text check (period_unit in ('HOUR', 'DAY', 'WEEK', 'MONTH')),
        as_needed boolean not null,
        as_needed_for text,
        duration_value numeric check (duration_value > 0),
        duration_unit text check (duration_unit in ('HOUR', 'DAY', 'WEEK', 'MONTH')),
        quantity_value numeric check (quantity_value > 0),
        quantity_unit text,
        instructions text,
        status text not null check (status in ('ACTIVE', 'COMPLETED', 'STOPPED', 'CANCELLED')),
        authored_at timestamptz not null,
        prescriber_id uuid not null,
        status_reason text,
        status_changed_at timestamptz,
        status_changed_by uuid,
        allergy_override_reason text,
        overridden_allergy_ids jsonb not null default '[]',
        created_at timestamptz not null,
        updated_at timestamptz not null,
        constraint prescriptions_pkey primary key (tenant_id, id),
        constraint prescriptions_tenant_id_source_id_key unique (tenant_id, source_id),
        constraint prescriptions_patient_fkey foreign key (tenant_id, patient_id)
          references clinical.patients (tenant_id, id),
        constraint prescriptions_medication_code_check check ((medication_system is null) = (medication_code is null)),
        constraint prescriptions_schedule_check check (as_needed or times_per_period is not null),
        constraint prescriptions_stop_reason_check check (status <> 'STOPPED' or status_reason is not null)
      )`);
    this.addSql(
      'create index prescriptions_tenant_id_patient_id_idx on clinical.prescriptions (tenant_id, patient_id, status, authored_at desc)',
    );

    for (const table of ['vital_sign_panels', 'vital_signs', 'allergies', 'problems', 'prescriptions']) {
      for (const statement of tenantIsolationSql(`clinical.${table}`)) this.addSql(statement);
    }
  }

  override async down(): Promise<void> {
    this.addSql('drop table clinical.prescriptions');
    this.addSql('drop table clinical.problems');
    this.addSql('drop table clinical.allergies');
    this.addSql('drop table clinical.vital_signs');
    this.addSql('drop table clinical.vital_sign_panels');
  }
}
