import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { tenantFilters } from '@hms/service-kit';

/** The hospital stay of an INPATIENT encounter. The wardId and bedId are the current (or last) place. */
export const Admission = defineEntity({
  name: 'Admission',
  tableName: 'admissions',
  properties: {
    encounterId: p.uuid().primary(),
    tenantId: p.uuid(),
    patientId: p.uuid(),
    wardId: p.uuid(),
    bedId: p.uuid().nullable(),
    admittedAt: p.datetime(),
    dischargeOrderedAt: p.datetime().nullable(),
    dischargeOrderedBy: p.uuid().nullable(),
    /** When the patient left. Null while admitted. */
    dischargedAt: p.datetime().nullable(),
  },
  filters: tenantFilters,
});

export type Admission = InferEntity<typeof Admission>;
