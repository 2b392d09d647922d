import { Migration } from '@mikro-orm/migrations';

/** The record tables whose rows may name an encounter. */
const RECORD_TABLES = ['vital_sign_panels', 'vital_signs', 'allergies', 'problems', 'prescriptions'];

/**
 * Ties the encounter_id of vital signs, allergies, problems and prescriptions to an encounter of the
 * same tenant and the same patient. The foreign key spans (tenant_id, patient_id, encounter_id), so the
 * encounters table gets a unique key on (tenant_id, patient_id, id) for it to reference. A row without
 * an encounter passes, because a foreign key with a null column is not checked.
 */
export class Migration20261211000100LinkRecordsToEncounters extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      'alter table clinical.encounters add constraint encounters_tenant_id_patient_id_id_key unique (tenant_id, patient_id, id)',
    );
    for (const table of RECORD_TABLES) {
      this.addSql(
        `alter table clinical.${table} add constraint ${table}_encounter_fkey foreign key (tenant_id, patient_id, encounter_id)
           references clinical.encounters (tenant_id, patient_id, id)`,
      );
      // Serves the foreign key check when an encounter is deleted, and reads of an encounter's records.
      this.addSql(
        `create index ${table}_tenant_id_encounter_id_idx on clinical.${table} (tenant_id, encounter_id) where encounter_id is not null`,
      );
    }
  }

  override async down(): Promise<void> {
    for (const table of RECORD_TABLES) {
      this.addSql(`drop index clinical.${table}_tenant_id_encounter_id_idx`);
      this.addSql(`alter table clinical.${table} drop constraint ${table}_encounter_fkey`);
    }
    this.addSql('alter table clinical.encounters drop constraint encounters_tenant_id_patient_id_id_key');
  }
}
