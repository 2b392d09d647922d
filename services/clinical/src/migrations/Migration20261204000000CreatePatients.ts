import { Migration } from '@mikro-orm/migrations';
import { tenantIsolationSql } from '@hms/service-kit';

/**
 * Patients with their identifiers and guardians, the per-tenant MRN counter and the clinical copy of
 * tenant settings. Every table is tenant-owned and under row-level security; every index starts with
 * tenant_id, primary keys included, so one tenant's rows sit together and no lookup crosses tenants.
 *
 * Columns compared byte-wise (MRN, phone digits, sort keys) use the "C" collation: their contents are
 * ASCII or already folded, and the range conditions the search writes for prefixes need an index whose
 * order does not depend on the server's locale.
 */
export class Migration20261204000000CreatePatients extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table clinical.patients (
        tenant_id uuid not null,
        id uuid not null,
        mrn text collate "C" not null,
        given_names jsonb not null,
        family_name text not null,
        name_prefix jsonb not null default '[]',
        name_suffix jsonb not null default '[]',
        sex text not null check (sex in ('FEMALE', 'MALE', 'OTHER', 'UNKNOWN')),
        gender_identity text,
        birth_date date not null,
        deceased_at timestamptz,
        phone text,
        phone_digits text collate "C",
        email text,
        address jsonb,
        search_text text not null,
        family_key text collate "C" not null,
        given_key text collate "C" not null,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        constraint patients_pkey primary key (tenant_id, id),
        constraint patients_tenant_id_mrn_key unique (tenant_id, mrn)
      )`);
    // btree_gin puts tenant_id into the trigram index, so a fragment search reads one tenant's entries.
    this.addSql(
      'create index patients_tenant_id_search_text_idx on clinical.patients using gin (tenant_id, search_text public.gin_trgm_ops)',
    );
    this.addSql(
      'create index patients_tenant_id_phone_digits_idx on clinical.patients (tenant_id, phone_digits)',
    );
    // Serves the list without search and its keyset pagination, in the order of the connection.
    this.addSql(
      'create index patients_tenant_id_sort_idx on clinical.patients (tenant_id, family_key, given_key, id)',
    );

    this.addSql(`
      create table clinical.patient_identifiers (
        tenant_id uuid not null,
        id uuid not null,
        patient_id uuid not null,
        type text not null check (type in ('NATIONAL_ID', 'PASSPORT', 'DRIVER_LICENSE', 'INSURANCE', 'EXTERNAL', 'OTHER')),
        system text not null,
        value text not null,
        position smallint not null,
        constraint patient_identifiers_pkey primary key (tenant_id, id),
        constraint patient_identifiers_tenant_id_system_value_key unique (tenant_id, system, value),
        constraint patient_identifiers_patient_fkey foreign key (tenant_id, patient_id)
          references clinical.patients (tenant_id, id) on delete cascade
      )`);
    this.addSql(
      'create index patient_identifiers_tenant_id_patient_id_idx on clinical.patient_identifiers (tenant_id, patient_id)',
    );

    this.addSql(`
      create table clinical.patient_guardians (
        tenant_id uuid not null,
        id uuid not null,
        patient_id uuid not null,
        given_names jsonb not null,
        family_name text not null,
        name_prefix jsonb not null default '[]',
        name_suffix jsonb not null default '[]',
        relationship text not null
          check (relationship in ('MOTHER', 'FATHER', 'PARENT', 'LEGAL_GUARDIAN', 'GRANDPARENT', 'SIBLING', 'OTHER')),
        phone text,
        email text,
        position smallint not null,
        constraint patient_guardians_pkey primary key (tenant_id, id),
        constraint patient_guardians_patient_fkey foreign key (tenant_id, patient_id)
          references clinical.patients (tenant_id, id) on delete cascade
      )`);
    this.addSql(
      'create index patient_guardians_tenant_id_patient_id_idx on clinical.patient_guardians (tenant_id, patient_id)',
    );

    this.addSql(`
      create table clinical.mrn_counters (
        tenant_id uuid primary key,
        last_value bigint not null check (last_value > 0)
      )`);

    this.addSql(`
      create table clinical.tenant_settings (
        tenant_id uuid primary key,
        age_of_majority smallint not null default 18 check (age_of_majority between 1 and 30),
        updated_at timestamptz not null default now()
      )`);

    for (const table of [
      'patients',
      'patient_identifiers',
      'patient_guardians',
      'mrn_counters',
      'tenant_settings',
    ]) {
      for (const statement of tenantIsolationSql(`clinical.${table}`)) this.addSql(statement);
    }
  }

  override async down(): Promise<void> {
    this.addSql('drop table clinical.tenant_settings');
    this.addSql('drop table clinical.mrn_counters');
    this.addSql('drop table clinical.patient_guardians');
    this.addSql('drop table clinical.patient_identifiers');
    this.addSql('drop table clinical.patients');
  }
}
