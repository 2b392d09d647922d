/**
 * Bulk SQL that gives synthetic patients realistic charts for the chart benchmark. It runs as the
 * owner roles of clinical and scheduling inside the benchmark's tenant, so row-level security still
 * applies, and writes no events or audit records.
 */
import pg from 'pg';
import { newId } from '@hms/service-kit';

/** Sizes of each seeded chart. */
export const CHART_SHAPE = {
  /** One open (every 20th an inpatient stay in a bed), the others closed visits of past months. */
  encounters: 4,
  diagnosesPerEncounter: 2,
  /** Seven measurements each: temperature, heart and respiratory rate, blood pressure, SpO2, weight. */
  vitalPanels: 6,
  /** Two active, one resolved. */
  problems: 3,
  /** One active, one resolved. */
  allergies: 2,
  /** Two active, two completed. */
  prescriptions: 4,
  /** Upcoming, one and two weeks ahead. */
  appointments: 2,
};

const DIAGNOSES = [
  ['J45.909', 'Asthma'],
  ['I10', 'Essential hypertension'],
  ['E11.9', 'Type 2 diabetes mellitus'],
  ['J06.9', 'Acute upper respiratory infection'],
  ['M54.5', 'Low back pain'],
  ['K21.9', 'Gastro-oesophageal reflux disease'],
  ['N39.0', 'Urinary tract infection'],
  ['R51', 'Headache'],
];
const MEDICATIONS = ['Metformin', 'Amlodipine', 'Salbutamol', 'Omeprazole', 'Paracetamol', 'Atorvastatin'];
const SUBSTANCES = ['Penicillin', 'Peanut', 'Latex', 'Sulfonamide', 'Shellfish'];

async function inTenant<T>(
  url: string,
  tenantId: string,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('begin');
    await client.query("select set_config('app.tenant_id', $1, true)", [tenantId]);
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}

/**
 * Gives the first `chartCount` patients of the tenant (by MRN) a chart of CHART_SHAPE, with `doctorIds`
 * as attendings, recorders and prescribers, and returns their ids.
 */
export async function seedCharts(
  clinicalOwnerUrl: string,
  tenantId: string,
  chartCount: number,
  doctorIds: string[],
): Promise<string[]> {
  const departments = Array.from({ length: 5 }, (_, index) => ({ id: newId(), code: `D${index + 1}` }));
  const wards = Array.from({ length: 10 }, (_, index) => ({ id: newId(), code: `W${index + 1}` }));
  const params = {
    tenant: tenantId,
    doctors: doctorIds,
    departments: departments.map((department) => department.id),
    wards: wards.map((ward) => ward.id),
  };

  return inTenant(clinicalOwnerUrl, tenantId, async (client) => {
    const run = (sql: string, values: unknown[] = []) => client.query(sql, values);

    // The chart patients, numbered from 0, and the tenant's departments and wards.
    await run(
      `create temp table bench_patients on commit drop as
         select id, (row_number() over (order by mrn) - 1)::int as n
           from clinical.patients where tenant_id = $1 order by mrn limit $2`,
      [tenantId, chartCount],
    );
    await run(
      `insert into clinical.departments (tenant_id, id, code, name, created_at)
         select $1, id, code, 'Department ' || code, now() from unnest($2::uuid[], $3::text[]) as d (id, code)`,
      [tenantId, params.departments, departments.map((department) => department.code)],
    );
    await run(
      `insert into clinical.wards (tenant_id, id, code, name, created_at, updated_at)
         select $1, id, code, 'Ward ' || code, now(), now() from unnest($2::uuid[], $3::text[]) as w (id, code)`,
      [tenantId, params.wards, wards.map((ward) => ward.code)],
    );

    // Encounters: k = 0 is open (every 20th patient's is an inpatient stay), the others closed.
    await run(
      `create temp table bench_encounters on commit drop as
         select gen_random_uuid() as id, p.id as patient_id, p.n, k,
                case when k = 0 and p.n % 20 = 0 then 'INPATIENT' else 'AMBULATORY' end as class,
                case when k > 0 then 'CLOSED' when p.n % 2 = 0 then 'OPEN' else 'IN_PROGRESS' end as status,
                case when k = 0 then now() - interval '2 hours' - (p.n % 60) * interval '1 minute'
                     else now() - (k * 90 + p.n % 60) * interval '1 day' end as started_at
           from bench_patients p cross join generate_series(0, $1 - 1) k`,
      [CHART_SHAPE.encounters],
    );
    await run(
      `insert into clinical.encounters (tenant_id, id, patient_id, class, status, chief_complaint, department_id,
         attending_id, started_at, ended_at, created_at, updated_at)
       select $1, e.id, e.patient_id, e.class, e.status, 'Complaint ' || (e.n % 97), ($3::uuid[])[1 + e.n % 5],
              ($2::uuid[])[1 + e.n % cardinality($2::uuid[])], e.started_at,
              case when e.status = 'CLOSED' then e.started_at + interval '30 minutes' end, e.started_at, e.started_at
         from bench_encounters e`,
      [tenantId, params.doctors, params.departments],
    );
    await run(
      `insert into clinical.diagnoses (tenant_id, id, encounter_id, code_system, code, text, is_primary,
         recorded_at, recorded_by)
       select $1, gen_random_uuid(), e.id, 'ICD10', ($4::text[])[1 + (e.n + e.k + j) % 8],
              ($5::text[])[1 + (e.n + e.k + j) % 8], j = 0, e.started_at,
              ($2::uuid[])[1 + e.n % cardinality($2::uuid[])]
         from bench_encounters e cross join generate_series(0, $3 - 1) j`,
      [
        tenantId,
        params.doctors,
        CHART_SHAPE.diagnosesPerEncounter,
        DIAGNOSES.map(([code]) => code),
        DIAGNOSES.map(([, text]) => text),
      ],
    );

    // Each inpatient stay occupies a bed of its own in one of the wards.
    await run(
      `create temp table bench_stays on commit drop as
         select e.id as encounter_id, e.patient_id, e.n, e.started_at, gen_random_uuid() as bed_id,
                ($1::uuid[])[1 + (e.n / 20) % 10] as ward_id
           from bench_encounters e where e.class = 'INPATIENT'`,
      [params.wards],
    );
    await run(
      `insert into clinical.beds (tenant_id, id, ward_id, code, status, created_at, updated_at)
         select $1, bed_id, ward_id, 'B' || n, 'OCCUPIED', now(), now() from bench_stays`,
      [tenantId],
    );
    await run(
      `insert into clinical.admissions (tenant_id, encounter_id, patient_id, ward_id, bed_id, admitted_at)
         select $1, encounter_id, patient_id, ward_id, bed_id, started_at from bench_stays`,
      [tenantId],
    );
    await run(
      `insert into clinical.bed_assignments (tenant_id, id, encounter_id, patient_id, ward_id, bed_id, started_at)
         select $1, gen_random_uuid(), encounter_id, patient_id, ward_id, bed_id, started_at from bench_stays`,
      [tenantId],
    );

    // Vital signs panels a month apart, seven measurements each in canonical units.
    await run(
      `create temp table bench_panels on commit drop as
         select gen_random_uuid() as id, p.id as patient_id, p.n, k,
                now() - (k * 30 + 1) * interval '1 day' - (p.n % 600) * interval '1 minute' as effective_at
           from bench_patients p cross join generate_series(0, $1 - 1) k`,
      [CHART_SHAPE.vitalPanels],
    );
    await run(
      `insert into clinical.vital_sign_panels (tenant_id, id, patient_id, effective_at, status, recorded_at, recorded_by)
         select $1, id, patient_id, effective_at, 'FINAL', effective_at, ($2::uuid[])[1 + n % cardinality($2::uuid[])]
           from bench_panels`,
      [tenantId, params.doctors],
    );
    await run(
      `insert into clinical.vital_signs (tenant_id, id, panel_id, patient_id, kind, code, value, unit,
         original_value, original_unit, effective_at, status, position)
       select $1, gen_random_uuid(), p.id, p.patient_id, v.kind, v.code, v.base + (p.n + p.k) % v.spread, v.unit,
              v.base + (p.n + p.k) % v.spread, v.unit, p.effective_at, 'FINAL', v.position
         from bench_panels p
         cross join (values ('BODY_TEMPERATURE', '8310-5', 36.1, 2, 'Cel', 0),
                            ('HEART_RATE', '8867-4', 60, 40, '/min', 1),
                            ('RESPIRATORY_RATE', '9279-1', 12, 8, '/min', 2),
                            ('SYSTOLIC_BLOOD_PRESSURE', '8480-6', 100, 50, 'mm[Hg]', 3),
                            ('DIASTOLIC_BLOOD_PRESSURE', '8462-4', 60, 30, 'mm[Hg]', 4),
                            ('OXYGEN_SATURATION', '59408-5', 94, 6, '%', 5),
                            ('BODY_WEIGHT', '29463-7', 50, 50, 'kg', 7))
           as v (kind, code, base, spread, unit, position)`,
      [tenantId],
    );

    // Problems, allergies and prescriptions, some no longer active.
    await run(
      `insert into clinical.problems (tenant_id, id, patient_id, condition_system, condition_code, condition_display,
         status, onset_at, resolved_at, recorded_at, recorded_by, created_at, updated_at)
       select $1, gen_random_uuid(), p.id, 'ICD_10', ($3::text[])[1 + (p.n + j) % 8], ($4::text[])[1 + (p.n + j) % 8],
              case when j = 2 then 'RESOLVED' else 'ACTIVE' end, now() - (400 + j * 100) * interval '1 day',
              case when j = 2 then now() - interval '30 days' end, now() - interval '30 days',
              ($2::uuid[])[1 + p.n % cardinality($2::uuid[])], now(), now()
         from bench_patients p cross join generate_series(0, $5 - 1) j`,
      [
        tenantId,
        params.doctors,
        DIAGNOSES.map(([code]) => code),
        DIAGNOSES.map(([, text]) => text),
        CHART_SHAPE.problems,
      ],
    );
    await run(
      `insert into clinical.allergies (tenant_id, id, patient_id, substance_display, substance_key, category,
         criticality, clinical_status, verification_status, recorded_at, recorded_by, created_at, updated_at)
       select $1, gen_random_uuid(), p.id, s.name, lower(s.name), 'MEDICATION', 'HIGH',
              case when j = 0 then 'ACTIVE' else 'RESOLVED' end, 'CONFIRMED', now() - interval '200 days',
              ($2::uuid[])[1 + p.n % cardinality($2::uuid[])], now(), now()
         from bench_patients p cross join generate_series(0, $4 - 1) j
         cross join lateral (select ($3::text[])[1 + (p.n + j) % cardinality($3::text[])] as name) s`,
      [tenantId, params.doctors, SUBSTANCES, CHART_SHAPE.allergies],
    );
    await run(
      `insert into clinical.prescriptions (tenant_id, id, patient_id, medication_display, medication_key, dose_value,
         dose_unit, route, times_per_period, period, period_unit, as_needed, status, authored_at, prescriber_id,
         status_changed_at, created_at, updated_at)
       select $1, gen_random_uuid(), p.id, m.name, lower(m.name), 500, 'mg', 'ORAL', 1 + j % 3, 1, 'DAY', false,
              case when j < 2 then 'ACTIVE' else 'COMPLETED' end, now() - (10 + j * 60) * interval '1 day',
              ($2::uuid[])[1 + p.n % cardinality($2::uuid[])],
              case when j >= 2 then now() - (j * 30) * interval '1 day' end, now(), now()
         from bench_patients p cross join generate_series(0, $4 - 1) j
         cross join lateral (select ($3::text[])[1 + (p.n + j) % cardinality($3::text[])] as name) m`,
      [tenantId, params.doctors, MEDICATIONS, CHART_SHAPE.prescriptions],
    );

    const { rows } = await run('select id from bench_patients order by n');
    return rows.map((row: { id: string }) => row.id);
  });
}

/**
 * Gives scheduling its copies of the tenant (time zone Asia/Kolkata), the doctors and the chart
 * patients. It then books CHART_SHAPE.appointments upcoming 15-minute appointments per chart patient,
 * a week apart and with the doctors in turn, so that no practitioner or patient is double-booked.
 */
export async function seedAppointments(
  schedulingOwnerUrl: string,
  tenantId: string,
  patientIds: string[],
  doctorIds: string[],
): Promise<void> {
  await inTenant(schedulingOwnerUrl, tenantId, async (client) => {
    await client.query(
      `insert into scheduling.tenant_settings (tenant_id, time_zone, read_audit_enabled, updated_at)
         values ($1, 'Asia/Kolkata', true, now())`,
      [tenantId],
    );
    await client.query(
      `insert into scheduling.practitioners (tenant_id, id, active, roles, updated_at)
         select $1, id, true, '{doctor}', now() from unnest($2::uuid[]) as d (id)`,
      [tenantId, doctorIds],
    );
    await client.query(
      `insert into scheduling.patients (tenant_id, id, registered_at)
         select $1, id, now() from unnest($2::uuid[]) as p (id)`,
      [tenantId, patientIds],
    );
    await client.query(
      `insert into scheduling.appointments (tenant_id, id, practitioner_id, patient_id, department, during, status,
         kind, created_at, updated_at)
       select $1, gen_random_uuid(), ($3::uuid[])[1 + slot % cardinality($3::uuid[])], p.id, 'general-medicine',
              tstzrange(starts, starts + interval '15 minutes', '[)'), 'BOOKED', 'SCHEDULED', now(), now()
         from unnest($2::uuid[]) with ordinality as p (id, n)
         cross join generate_series(0, $4 - 1) j
         cross join lateral (select ((p.n - 1) * $4 + j)::int as slot) s
         cross join lateral (
           select date_trunc('day', now()) + (j + 1) * interval '7 days'
                  + (s.slot / cardinality($3::uuid[])) * interval '15 minutes' as starts
         ) t`,
      [tenantId, patientIds, doctorIds, CHART_SHAPE.appointments],
    );
  });
}

/** The tables of clinical that hold the tenant's rows, children before their parents. */
const CLINICAL_TABLES = [
  'bed_assignments',
  'admissions',
  'discharge_summary_versions',
  'discharge_summaries',
  'note_versions',
  'notes',
  'diagnoses',
  'vital_signs',
  'vital_sign_panels',
  'allergies',
  'problems',
  'prescriptions',
  'encounters',
  'beds',
  'wards',
  'departments',
  'patient_identifiers',
  'patient_guardians',
  'patients',
  'mrn_counters',
  'tenant_settings',
  'outbox',
];
const SCHEDULING_TABLES = [
  'appointments',
  'waitlist_entries',
  'time_off',
  'schedules',
  'patients',
  'practitioners',
  'tenant_settings',
  'outbox',
];

/**
 * Deletes the tenant's rows from clinical and scheduling, outbox included. Without a relay, the READ
 * audit records of the run would otherwise wait there and flood the next end-to-end run's consumer.
 */
export async function deleteTenantRows(
  clinicalOwnerUrl: string,
  schedulingOwnerUrl: string,
  tenantId: string,
): Promise<void> {
  await inTenant(clinicalOwnerUrl, tenantId, async (client) => {
    for (const table of CLINICAL_TABLES) {
      await client.query(`delete from clinical.${table} where tenant_id = $1`, [tenantId]);
    }
  });
  await inTenant(schedulingOwnerUrl, tenantId, async (client) => {
    for (const table of SCHEDULING_TABLES) {
      await client.query(`delete from scheduling.${table} where tenant_id = $1`, [tenantId]);
    }
  });
}
