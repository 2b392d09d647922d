import assert from 'node:assert/strict';
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
import { createOrm, inTenantTransaction, newId, upsertTenantSettings, type MikroORM } from '@hms/service-kit';
import { entities } from '../../services/scheduling/src/entities/index.js';
import { applyClinicalEvent } from '../../services/scheduling/src/replicas/clinical-consumer.js';
import { applyIdentityEvent } from '../../services/scheduling/src/replicas/identity-consumer.js';
import { GOOD_PASSWORD } from '../../services/identity/src/testing/harness.js';
import { randomSuffix, startSystem, type System } from './harness.js';

const LOGIN = `mutation ($input: LoginInput!) { login(input: $input) { accessToken } }`;
const DAY = `query ($p: ID!, $date: LocalDate!) {
  practitionerDay(practitionerId: $p, date: $date) {
    date timeZone
    practitioner { id displayName }
    appointments { id localStart status patient { id mrn name { text } } }
  }
}`;

interface DayView {
  practitionerDay: {
    practitioner: { id: string; displayName: string };
    appointments: { id: string; localStart: string; patient: { id: string; name: { text: string } } }[];
  };
}

/** Returns the first Monday of June next year, a working day in the future whatever today is. */
function futureMonday(): string {
  const date = new Date(Date.UTC(new Date().getUTCFullYear() + 1, 5, 1));
  while (date.getUTCDay() !== 1) date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString().slice(0, 10);
}

describe('scheduling through the gateway', () => {
  let system: System;
  let orm: MikroORM;

  before(async () => {
    system = await startSystem();
    orm = await createOrm({ clientUrl: system.schedulingDatabase.appUrl, schema: 'scheduling', entities });
  });

  after(async () => {
    await orm?.close();
    await system?.stop();
  });

  /** Applies an event to scheduling's copies as its consumers do when they read it from Kafka. */
  const apply = (tenantId: string, type: string, payload: Any) => {
    const envelope = create(EventEnvelopeSchema, {
      eventId: newId(),
      type,
      occurredAt: timestampFromDate(new Date()),
      producer: type.split('.')[0]!,
      tenantId,
      subject: { type: 'Test', id: tenantId },
      payload,
    });
    return inTenantTransaction(orm, tenantId, async (em) => {
      if (type.startsWith('clinical.')) await applyClinicalEvent(em, envelope);
      else await applyIdentityEvent(em, envelope);
      if (type === 'identity.tenant.created') {
        await upsertTenantSettings(em, 'scheduling', envelope, {
          time_zone: 'Asia/Kolkata',
          read_audit_enabled: true,
        });
      }
    });
  };

  test('day view costs the same subgraph calls for 3 and 20 appointments', async () => {
    // A tenant with its administrator, through the gateway.
    const operator = await system.identity.operatorToken();
    const slug = `sched-${randomSuffix()}`;
    const adminEmail = `admin.${randomSuffix()}@example.org`;
    const created = await system.gateway<{ createTenant: { tenant: { id: string } } }>(
      'mutation ($input: CreateTenantInput!) { createTenant(input: $input) { tenant { id } } }',
      {
        input: {
          slug,
          name: `Scheduling ${slug}`,
          timeZone: 'Asia/Kolkata',
          currency: 'INR',
          admin: { name: 'Admin', email: adminEmail, password: GOOD_PASSWORD },
        },
      },
      operator,
    );
    assert.equal(created.body.errors, undefined, JSON.stringify(created.body.errors));
    const tenantId = created.body.data!.createTenant.tenant.id;
    const login = async (email: string) => {
      const response = await system.gateway<{ login: { accessToken: string } }>(LOGIN, {
        input: { tenantSlug: slug, email, password: GOOD_PASSWORD },
      });
      assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
      return response.body.data!.login.accessToken;
    };
    const admin = await login(adminEmail);

    // A doctor, created through identity, and 23 patients, registered through clinical.
    const doctorEmail = `doctor.${randomSuffix()}@example.org`;
    const doctor = await system.gateway<{ createUser: { id: string } }>(
      'mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }',
      {
        input: {
          givenName: 'Meera',
          familyName: 'Iyer',
          email: doctorEmail,
          password: GOOD_PASSWORD,
          roles: ['doctor'],
        },
      },
      admin,
    );
    assert.equal(doctor.body.errors, undefined, JSON.stringify(doctor.body.errors));
    const doctorId = doctor.body.data!.createUser.id;
    const patientIds: string[] = [];
    for (let i = 0; i < 23; i++) {
      const registered = await system.gateway<{ registerPatient: { id: string; mrn: string } }>(
        'mutation ($input: RegisterPatientInput!) { registerPatient(input: $input) { id mrn } }',
        { input: { name: { given: ['Asha'], family: `Rao${i}` }, sex: 'FEMALE', birthDate: '1984-03-09' } },
        admin,
      );
      assert.equal(registered.body.errors, undefined, JSON.stringify(registered.body.errors));
      patientIds.push(registered.body.data!.registerPatient.id);
    }

    // Identity's and clinical's events, as scheduling's consumers would apply them.
    await apply(
      tenantId,
      'identity.tenant.created',
      packPayload(
        TenantCreatedSchema,
        create(TenantCreatedSchema, {
          tenantId,
          slug,
          status: TenantStatus.ACTIVE,
          readAuditEnabled: true,
          ageOfMajority: 18,
          timeZone: 'Asia/Kolkata',
        }),
      ),
    );
    await apply(
      tenantId,
      'identity.user.created',
      packPayload(UserCreatedSchema, create(UserCreatedSchema, { userId: doctorId, roles: ['doctor'] })),
    );
    for (const patientId of patientIds) {
      await apply(
        tenantId,
        'clinical.patient.registered',
        packPayload(PatientRegisteredSchema, create(PatientRegisteredSchema, { patientId, mrn: 'MRN' })),
      );
    }

    // The administrator sets the doctor's schedule; the doctor books 3 visits one day, 20 the next.
    const schedule = await system.gateway(
      'mutation ($input: SetScheduleInput!) { setSchedule(input: $input) { id } }',
      {
        input: {
          practitionerId: doctorId,
          department: 'general-medicine',
          slotMinutes: 15,
          weeklyHours: ['MONDAY', 'TUESDAY'].map((weekday) => ({ weekday, start: '09:00', end: '17:00' })),
        },
      },
      admin,
    );
    assert.equal(schedule.body.errors, undefined, JSON.stringify(schedule.body.errors));
    const doctorToken = await login(doctorEmail);
    const monday = futureMonday();
    const tuesday = new Date(Date.parse(`${monday}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const book = async (date: string, index: number, patientId: string) => {
      const minutes = 9 * 60 + index * 15;
      const time = `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
      const booked = await system.gateway(
        'mutation ($input: BookAppointmentInput!) { bookAppointment(input: $input) { id } }',
        { input: { practitionerId: doctorId, patientId, startsAt: `${date}T${time}:00+05:30` } },
        doctorToken,
      );
      assert.equal(booked.body.errors, undefined, JSON.stringify(booked.body.errors));
    };
    for (let i = 0; i < 3; i++) await book(monday, i, patientIds[i]!);
    for (let i = 0; i < 20; i++) await book(tuesday, i, patientIds[3 + i]!);

    // The day views, counting the gateway's calls to each subgraph.
    const dayView = async (date: string) => {
      system.subgraphRequests.clear();
      const response = await system.gateway<DayView>(DAY, { p: doctorId, date }, doctorToken);
      assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
      return { view: response.body.data!.practitionerDay, calls: new Map(system.subgraphRequests) };
    };
    const small = await dayView(monday);
    const large = await dayView(tuesday);

    assert.equal(small.view.appointments.length, 3);
    assert.equal(large.view.appointments.length, 20);
    assert.equal(large.view.practitioner.displayName.includes('Meera'), true);
    assert.equal(large.view.appointments[0]!.localStart, `${tuesday}T09:00:00+05:30`);
    assert.deepEqual(
      large.view.appointments.map((appointment) => appointment.patient.name.text),
      patientIds.slice(3).map((_, i) => `Asha Rao${3 + i}`),
    );
    assert.deepEqual([...large.calls.entries()].sort(), [...small.calls.entries()].sort());
    assert.equal(large.calls.get('scheduling'), 1);
    assert.equal(large.calls.get('clinical'), 1);
    assert.equal(large.calls.get('identity'), 1);
  });
});
