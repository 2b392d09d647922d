import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  create,
  EventEnvelopeSchema,
  packPayload,
  PatientRegisteredSchema,
  TenantCreatedSchema,
  TenantStatus,
  timestampFromDate,
  UserCreatedSchema,
  type Any,
} from '@hms/proto-schemas';
import {
  createOrm,
  inTenantTransaction,
  newId,
  tryGetRequestContext,
  upsertTenantSettings,
  type MikroORM,
} from '@hms/service-kit';
import { errorCodes, type GraphQLResponse } from '@hms/test-kit';
import { entities } from '../../services/scheduling/src/entities/index.js';
import { applyClinicalEvent } from '../../services/scheduling/src/replicas/clinical-consumer.js';
import { applyIdentityEvent } from '../../services/scheduling/src/replicas/identity-consumer.js';
import { GOOD_PASSWORD, type TestTenant } from '../../services/identity/src/testing/harness.js';
import { CHART } from './chart-query.js';
import { startSystem, type System } from './harness.js';

interface Chart {
  id: string;
  mrn: string;
  age: { years: number; display: string };
  isMinor: boolean;
  guardians: { name: { text: string }; relationship: string }[];
  openEncounters: {
    id: string;
    class: string;
    status: string;
    attending: { id: string; displayName: string };
    department: { code: string } | null;
    diagnoses: { code: string | null; text: string; primary: boolean }[];
    admission: { ward: { code: string }; bed: { code: string; status: string } | null } | null;
  }[];
  currentAdmission: { ward: { code: string }; bed: { code: string } | null } | null;
  latestVitals: {
    heartRate: { value: number; effectiveAt: string } | null;
    bodyTemperature: { value: number } | null;
    systolicBloodPressure: { value: number } | null;
    diastolicBloodPressure: { value: number } | null;
    bodyWeight: { value: number; effectiveAt: string } | null;
  };
  problems: { id: string; status: string; condition: { display: string } }[];
  allergies: { id: string; substance: { display: string }; clinicalStatus: string }[];
  prescriptions: {
    id: string;
    status: string;
    medication: { display: string };
    prescriber: { id: string };
  }[];
  appointments: {
    totalCount: number;
    edges: {
      node: { id: string; startsAt: string; status: string; practitioner: { displayName: string } };
    }[];
  };
}

const LOGIN = `mutation ($input: LoginInput!) { login(input: $input) { accessToken user { id } } }`;

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

/** Returns the first Monday of June next year, a working day in the future whatever today is. */
function futureMonday(): string {
  const date = new Date(Date.UTC(new Date().getUTCFullYear() + 1, 5, 1));
  while (date.getUTCDay() !== 1) date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString().slice(0, 10);
}

/**
 * Returns a new W3C traceparent and its trace id, so that the statements of one request can be
 * counted apart from any other work.
 */
function newTrace(): { traceparent: string; traceId: string } {
  const traceId = randomBytes(16).toString('hex');
  return { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`, traceId };
}

describe('patient chart through the gateway', () => {
  let system: System;
  let schedulingOrm: MikroORM;
  /** SQL statements the clinical subgraph sent, by the trace id of the request that sent them. */
  const statementsByTrace = new Map<string, string[]>();

  let tenant: TestTenant;
  let admin: string;
  let doctor: { id: string; token: string };
  let frontDesk: { id: string; token: string };
  let patientId: string;
  let wardBeds: Record<string, string>;
  let bookedSlots = 0;
  const monday = futureMonday();

  before(async () => {
    system = await startSystem({
      // The hook runs in the async context of the resolver that sends the statement, so the request
      // context carries the trace id the gateway forwarded. Background work (the outbox relay, consumers)
      // runs outside any request, with no trace id or that of the event it handles, and is left out.
      clinicalOnQuery: (sql) => {
        const traceId = tryGetRequestContext()?.traceId;
        if (!traceId) return;
        const statements = statementsByTrace.get(traceId) ?? [];
        statements.push(sql);
        statementsByTrace.set(traceId, statements);
      },
    });
    schedulingOrm = await createOrm({
      clientUrl: system.schedulingDatabase.appUrl,
      schema: 'scheduling',
      entities,
    });

    // A tenant created in identity, then its doctor and front desk clerk through the gateway.
    tenant = await system.identity.createTenant();
    admin = await login(tenant.adminEmail);
    doctor = await createStaff('Meera', 'Iyer', 'doctor');
    frontDesk = await createStaff('Ravi', 'Kumar', 'front_desk');

    // Scheduling learns of the tenant and the doctor from identity's events. This system runs without
    // the event pipeline, so the test applies them as scheduling's consumers would.
    await applyToScheduling(
      'identity.tenant.created',
      packPayload(
        TenantCreatedSchema,
        create(TenantCreatedSchema, {
          tenantId: tenant.id,
          slug: tenant.slug,
          status: TenantStatus.ACTIVE,
          readAuditEnabled: true,
          ageOfMajority: 18,
          timeZone: 'Asia/Kolkata',
        }),
      ),
    );
    await applyToScheduling(
      'identity.user.created',
      packPayload(UserCreatedSchema, create(UserCreatedSchema, { userId: doctor.id, roles: ['doctor'] })),
    );
    await ok(
      'mutation ($input: SetScheduleInput!) { setSchedule(input: $input) { id } }',
      {
        input: {
          practitionerId: doctor.id,
          department: 'general-medicine',
          slotMinutes: 15,
          weeklyHours: [{ weekday: 'MONDAY', start: '09:00', end: '17:00' }],
        },
      },
      admin,
    );

    // A department and a ward with two beds for the stay.
    await ok(
      'mutation { createDepartment(input: { code: "GEN", name: "General medicine" }) { id } }',
      {},
      admin,
    );
    const ward = await ok<{ createWard: { beds: { id: string; code: string }[] } }>(
      'mutation { createWard(input: { code: "W1", name: "Ward one", bedCodes: ["1", "2"] }) { beds { id code } } }',
      {},
      admin,
    );
    wardBeds = Object.fromEntries(ward.createWard.beds.map((bed) => [bed.code, bed.id]));

    patientId = await registerPatient({
      name: { given: ['Asha'], family: 'Rao' },
      sex: 'FEMALE',
      birthDate: '1984-03-09',
      phone: '+919812345678',
    });
  });

  after(async () => {
    await schedulingOrm?.close();
    await system?.stop();
  });

  /** Posts through the gateway and fails the test on any error. */
  async function ok<T = Record<string, unknown>>(
    query: string,
    variables: Record<string, unknown>,
    token: string,
  ): Promise<T> {
    const response = await system.gateway<T>(query, variables, token);
    assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
    return response.body.data!;
  }

  async function login(email: string): Promise<string> {
    const response = await system.gateway<{ login: { accessToken: string } }>(LOGIN, {
      input: { tenantSlug: tenant.slug, email, password: GOOD_PASSWORD },
    });
    assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
    return response.body.data!.login.accessToken;
  }

  async function createStaff(given: string, family: string, role: string) {
    const email = `${role}.${randomBytes(4).toString('hex')}@example.org`;
    const created = await ok<{ createUser: { id: string } }>(
      'mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }',
      { input: { givenName: given, familyName: family, email, password: GOOD_PASSWORD, roles: [role] } },
      admin,
    );
    return { id: created.createUser.id, token: await login(email) };
  }

  /** Applies an event to scheduling's copies as its consumers do when they read it from Kafka. */
  function applyToScheduling(type: string, payload: Any) {
    const envelope = create(EventEnvelopeSchema, {
      eventId: newId(),
      type,
      occurredAt: timestampFromDate(new Date()),
      producer: type.split('.')[0]!,
      tenantId: tenant.id,
      subject: { type: 'Test', id: tenant.id },
      payload,
    });
    return inTenantTransaction(schedulingOrm, tenant.id, async (em) => {
      if (type.startsWith('clinical.')) await applyClinicalEvent(em, envelope);
      else await applyIdentityEvent(em, envelope);
      if (type === 'identity.tenant.created') {
        await upsertTenantSettings(em, 'scheduling', envelope, {
          time_zone: 'Asia/Kolkata',
          read_audit_enabled: true,
        });
      }
    });
  }

  async function registerPatient(input: Record<string, unknown>): Promise<string> {
    const registered = await ok<{ registerPatient: { id: string } }>(
      'mutation ($input: RegisterPatientInput!) { registerPatient(input: $input) { id } }',
      { input },
      doctor.token,
    );
    const id = registered.registerPatient.id;
    await applyToScheduling(
      'clinical.patient.registered',
      packPayload(PatientRegisteredSchema, create(PatientRegisteredSchema, { patientId: id, mrn: 'MRN' })),
    );
    return id;
  }

  /** Books the doctor's next free 15-minute slot on the future Monday, 09:00 onwards in Kolkata. */
  async function book(): Promise<string> {
    const minutes = 9 * 60 + bookedSlots * 15;
    bookedSlots += 1;
    const time = `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
    const booked = await ok<{ bookAppointment: { id: string } }>(
      'mutation ($input: BookAppointmentInput!) { bookAppointment(input: $input) { id } }',
      { input: { practitionerId: doctor.id, patientId, startsAt: `${monday}T${time}:00+05:30` } },
      frontDesk.token,
    );
    return booked.bookAppointment.id;
  }

  /**
   * Adds one round of records to the chart, each kind with an entry the chart shows and one it leaves
   * out: an open and a closed visit, a vital signs panel, an active and a resolved problem, an active
   * and an entered-in-error allergy, an active and a stopped prescription, and a booked and a cancelled
   * appointment. Round `round` takes place `100 - 10 * round` minutes ago, so later rounds are newer.
   */
  async function addRound(round: number) {
    const at = minutesAgo(100 - 10 * round);
    const opened = await ok<{ openEncounter: { id: string } }>(
      'mutation ($input: OpenEncounterInput!) { openEncounter(input: $input) { id } }',
      {
        input: {
          patientId,
          chiefComplaint: `Visit ${round}`,
          startedAt: at,
          diagnoses: [
            { codeSystem: 'ICD10', code: 'J45.909', text: 'Asthma', primary: true },
            { text: `Cough ${round}` },
          ],
        },
      },
      doctor.token,
    );
    await ok(
      'mutation ($input: OpenEncounterInput!) { openEncounter(input: $input) { id } }',
      {
        input: {
          patientId,
          chiefComplaint: `Past visit ${round}`,
          startedAt: minutesAgo(2000 + round),
          endedAt: minutesAgo(1990 + round),
          diagnoses: [{ text: 'Sprain' }],
        },
      },
      doctor.token,
    );
    await ok(
      'mutation ($input: RecordVitalSignsInput!) { recordVitalSigns(input: $input) { id } }',
      {
        input: {
          patientId,
          encounterId: opened.openEncounter.id,
          effectiveAt: at,
          heartRate: { value: 60 + round, unit: '/min' },
          bodyTemperature: { value: 36.5, unit: 'Cel' },
          bloodPressure: { systolic: 110 + round, diastolic: 70 + round, unit: 'mm[Hg]' },
          bodyWeight: { value: 60 + round, unit: 'kg' },
        },
      },
      doctor.token,
    );

    await ok(
      'mutation ($input: AddProblemInput!) { addProblem(input: $input) { id } }',
      { input: { patientId, condition: { display: `Hypertension ${round}` } } },
      doctor.token,
    );
    await ok(
      'mutation ($input: AddProblemInput!) { addProblem(input: $input) { id } }',
      {
        input: {
          patientId,
          condition: { display: `Fracture ${round}` },
          onsetAt: minutesAgo(5000),
          resolvedAt: minutesAgo(4000),
        },
      },
      doctor.token,
    );

    await ok(
      'mutation ($input: RecordAllergyInput!) { recordAllergy(input: $input) { id } }',
      {
        input: {
          patientId,
          substance: { display: `Peanut ${round}` },
          category: 'FOOD',
          criticality: 'HIGH',
          verificationStatus: 'CONFIRMED',
        },
      },
      doctor.token,
    );
    const mistaken = await ok<{ recordAllergy: { id: string } }>(
      'mutation ($input: RecordAllergyInput!) { recordAllergy(input: $input) { id } }',
      { input: { patientId, substance: { display: `Latex ${round}` }, category: 'ENVIRONMENT' } },
      doctor.token,
    );
    await ok(
      'mutation ($id: ID!) { updateAllergyStatus(id: $id, input: { verificationStatus: ENTERED_IN_ERROR, reason: "Wrong patient" }) { id } }',
      { id: mistaken.recordAllergy.id },
      doctor.token,
    );

    const prescribe = (medication: string) =>
      ok<{ issuePrescription: { id: string } }>(
        'mutation ($input: IssuePrescriptionInput!) { issuePrescription(input: $input) { id } }',
        {
          input: {
            patientId,
            medication: { display: medication },
            dose: { value: 500, unit: 'mg' },
            route: 'ORAL',
            frequency: { timesPerPeriod: 3, period: 1, periodUnit: 'DAY' },
          },
        },
        doctor.token,
      );
    await prescribe(`Paracetamol ${round}`);
    const stopped = await prescribe(`Amoxicillin ${round}`);
    await ok(
      'mutation ($id: ID!) { stopPrescription(id: $id, reason: "Rash") { id } }',
      { id: stopped.issuePrescription.id },
      doctor.token,
    );

    await book();
    const cancelled = await book();
    await ok(
      'mutation ($id: ID!) { cancelAppointment(id: $id, reason: PATIENT_REQUEST) { id } }',
      { id: cancelled },
      frontDesk.token,
    );
  }

  /** Loads the chart as `token`'s user and returns the response with the clinical statements it cost. */
  async function loadChart(token: string, id = patientId) {
    const trace = newTrace();
    system.subgraphRequests.clear();
    const response = await system.gateway<{ patient: Chart | null }>(
      CHART,
      { id, from: new Date().toISOString() },
      token,
      { traceparent: trace.traceparent },
    );
    return {
      body: response.body,
      statements: statementsByTrace.get(trace.traceId) ?? [],
      subgraphCalls: new Map(system.subgraphRequests),
    };
  }

  const chartOf = (body: GraphQLResponse<{ patient: Chart | null }>): Chart => {
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.ok(body.data?.patient, 'the chart is null');
    return body.data.patient;
  };

  test('chart costs the same statements as it grows', async () => {
    // A small chart: one round of records and a stay in bed 1.
    await addRound(0);
    await ok(
      'mutation ($input: AdmitPatientInput!) { admitPatient(input: $input) { id } }',
      {
        input: { patientId, bedId: wardBeds['1'], chiefComplaint: 'Breathless', admittedAt: minutesAgo(95) },
      },
      doctor.token,
    );
    const small = await loadChart(doctor.token);
    const smallChart = chartOf(small.body);
    assert.equal(smallChart.openEncounters.length, 2);
    assert.equal(smallChart.appointments.totalCount, 1);

    // Five more rounds, a move to bed 2, a newer panel entered in error and an older one recorded late.
    for (let round = 1; round <= 5; round++) await addRound(round);
    const stay = smallChart.openEncounters.find((encounter) => encounter.class === 'INPATIENT')!;
    await ok(
      'mutation ($encounterId: ID!, $bedId: ID!) { transferPatient(encounterId: $encounterId, bedId: $bedId) { id } }',
      { encounterId: stay.id, bedId: wardBeds['2'] },
      doctor.token,
    );
    const wrong = await ok<{ recordVitalSigns: { id: string } }>(
      'mutation ($input: RecordVitalSignsInput!) { recordVitalSigns(input: $input) { id } }',
      { input: { patientId, effectiveAt: minutesAgo(1), heartRate: { value: 150, unit: '/min' } } },
      doctor.token,
    );
    await ok(
      'mutation ($id: ID!) { markVitalSignsEnteredInError(id: $id, reason: "Other patient") { id } }',
      { id: wrong.recordVitalSigns.id },
      doctor.token,
    );
    await ok(
      'mutation ($input: RecordVitalSignsInput!) { recordVitalSigns(input: $input) { id } }',
      { input: { patientId, effectiveAt: minutesAgo(500), heartRate: { value: 99, unit: '/min' } } },
      doctor.token,
    );
    const large = await loadChart(doctor.token);
    const largeChart = chartOf(large.body);

    // Six times the records, the same statements and subgraph calls.
    assert.equal(largeChart.openEncounters.length, 7);
    assert.ok(small.statements.length > 0, 'no clinical statement carried the trace id');
    assert.equal(
      large.statements.length,
      small.statements.length,
      `small chart:\n${small.statements.join('\n')}\nlarge chart:\n${large.statements.join('\n')}`,
    );
    assert.deepEqual([...large.subgraphCalls.entries()].sort(), [...small.subgraphCalls.entries()].sort());
    assert.equal(large.subgraphCalls.get('clinical'), 1);
  });

  test('chart content is right', async () => {
    const { body } = await loadChart(doctor.token);
    const chart = chartOf(body);

    // Demographics and age: born 9 March 1984, an adult.
    const today = new Date();
    const hadBirthday = today.getUTCMonth() > 2 || (today.getUTCMonth() === 2 && today.getUTCDate() >= 9);
    assert.equal(chart.age.years, today.getUTCFullYear() - 1984 - (hadBirthday ? 0 : 1));
    assert.equal(chart.isMinor, false);

    // Open encounters, newest first: five visits of rounds 5 to 0 around the stay, no closed visit.
    assert.deepEqual(
      chart.openEncounters.map((encounter) => encounter.class),
      ['AMBULATORY', 'AMBULATORY', 'AMBULATORY', 'AMBULATORY', 'AMBULATORY', 'INPATIENT', 'AMBULATORY'],
    );
    assert.ok(
      chart.openEncounters.every(
        (encounter) => encounter.status === 'OPEN' || encounter.status === 'IN_PROGRESS',
      ),
    );
    const visit = chart.openEncounters[0]!;
    assert.deepEqual(visit.diagnoses, [
      { code: 'J45.909', text: 'Asthma', primary: true },
      { code: null, text: 'Cough 5', primary: false },
    ]);
    assert.equal(visit.attending.displayName.includes('Meera'), true);
    assert.equal(visit.admission, null);
    const stay = chart.openEncounters[5]!;
    assert.equal(stay.admission?.ward.code, 'W1');
    assert.equal(stay.admission?.bed?.code, '2');
    assert.equal(stay.admission?.bed?.status, 'OCCUPIED');
    assert.equal(chart.currentAdmission?.bed?.code, '2');

    // Latest vitals: round 5's panel, not the newer one entered in error or the older one recorded last.
    assert.equal(chart.latestVitals.heartRate?.value, 65);
    assert.equal(chart.latestVitals.systolicBloodPressure?.value, 115);
    assert.equal(chart.latestVitals.diastolicBloodPressure?.value, 75);
    assert.equal(chart.latestVitals.bodyWeight?.value, 65);
    assert.equal(chart.latestVitals.bodyTemperature?.value, 36.5);

    // Only active problems, allergies and prescriptions.
    assert.deepEqual(
      chart.problems.map((problem) => problem.condition.display).sort(),
      [0, 1, 2, 3, 4, 5].map((round) => `Hypertension ${round}`),
    );
    assert.ok(chart.problems.every((problem) => problem.status === 'ACTIVE'));
    assert.deepEqual(
      chart.allergies.map((allergy) => allergy.substance.display).sort(),
      [0, 1, 2, 3, 4, 5].map((round) => `Peanut ${round}`),
    );
    assert.deepEqual(
      chart.prescriptions.map((prescription) => prescription.medication.display).sort(),
      [0, 1, 2, 3, 4, 5].map((round) => `Paracetamol ${round}`),
    );
    assert.ok(chart.prescriptions.every((prescription) => prescription.prescriber.id === doctor.id));

    // Upcoming appointments: the six booked, not the six cancelled, by start time.
    assert.equal(chart.appointments.totalCount, 6);
    const starts = chart.appointments.edges.map((edge) => edge.node.startsAt);
    assert.deepEqual(starts, [...starts].sort());
    assert.ok(chart.appointments.edges.every((edge) => edge.node.status === 'BOOKED'));
    assert.equal(chart.appointments.edges[0]!.node.practitioner.displayName.includes('Meera'), true);
  });

  test('minor chart shows guardian', async () => {
    const birthDate = `${new Date().getUTCFullYear() - 10}-01-15`;
    const minorId = await registerPatient({
      name: { given: ['Kiran'], family: 'Rao' },
      sex: 'MALE',
      birthDate,
      guardians: [
        { name: { given: ['Asha'], family: 'Rao' }, relationship: 'MOTHER', phone: '+919812345678' },
      ],
    });

    const chart = chartOf((await loadChart(doctor.token, minorId)).body);

    assert.equal(chart.isMinor, true);
    assert.equal(chart.age.years >= 9 && chart.age.years <= 10, true);
    assert.deepEqual(chart.guardians, [{ name: { text: 'Asha Rao' }, relationship: 'MOTHER' }]);
    assert.deepEqual(chart.openEncounters, []);
    assert.equal(chart.latestVitals.heartRate, null);
    assert.equal(chart.appointments.totalCount, 0);
  });

  test('other tenant gets null chart', async () => {
    const otherTenant = await system.identity.createTenant();
    const otherAdmin = await system.identity.login({
      tenantSlug: otherTenant.slug,
      email: otherTenant.adminEmail,
      password: otherTenant.adminPassword,
    });
    const email = `doctor.${randomBytes(4).toString('hex')}@example.org`;
    const created = await system.gateway(
      'mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }',
      {
        input: {
          givenName: 'Other',
          familyName: 'Doctor',
          email,
          password: GOOD_PASSWORD,
          roles: ['doctor'],
        },
      },
      otherAdmin.accessToken,
    );
    assert.equal(created.body.errors, undefined, JSON.stringify(created.body.errors));
    const otherDoctor = await system.identity.login({
      tenantSlug: otherTenant.slug,
      email,
      password: GOOD_PASSWORD,
    });

    const { body } = await loadChart(otherDoctor.accessToken);

    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.equal(body.data?.patient, null);
  });

  test('front desk forbidden clinical parts', async () => {
    // The whole chart: the first non-null clinical field that fails nulls the nullable patient.
    const { body } = await loadChart(frontDesk.token);
    assert.deepEqual([...new Set(errorCodes(body))], ['FORBIDDEN']);
    assert.equal(body.data?.patient ?? null, null);

    // Each clinical part on its own is FORBIDDEN at its path, and returns no data.
    const parts = {
      openEncounters: 'openEncounters { id }',
      currentAdmission: 'currentAdmission { admittedAt }',
      latestVitals: 'latestVitals { heartRate { value } }',
      problems: 'problems { id }',
      allergies: 'allergies { id }',
      prescriptions: 'prescriptions { id }',
    };
    for (const [field, selection] of Object.entries(parts)) {
      const response = await system.gateway<{ patient: Record<string, unknown> | null }>(
        `query ($id: ID!) { patient(id: $id) { id ${selection} } }`,
        { id: patientId },
        frontDesk.token,
      );
      assert.deepEqual(
        errorCodes(response.body),
        ['FORBIDDEN'],
        `${field}: ${JSON.stringify(response.body)}`,
      );
      assert.deepEqual(response.body.errors?.[0]?.path, ['patient', field]);
      assert.equal(response.body.data?.patient?.[field] ?? null, null);
    }

    // The front desk's own part of the chart, demographics and appointments, loads.
    const own = await system.gateway<{
      patient: { mrn: string; appointments: { totalCount: number } } | null;
    }>(
      'query ($id: ID!, $from: DateTime!) { patient(id: $id) { mrn name { text } appointments(from: $from, status: [BOOKED]) { totalCount } } }',
      { id: patientId, from: new Date().toISOString() },
      frontDesk.token,
    );
    assert.equal(own.body.errors, undefined, JSON.stringify(own.body.errors));
    assert.equal(own.body.data?.patient?.appointments.totalCount, 6);
  });
});
