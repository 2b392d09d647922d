import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { newId } from '@hms/service-kit';
import { errorCodes } from '@hms/test-kit';
import { startHarness, type ClinicalHarness } from '../../testing/harness.js';
import { invalidFields } from '../../testing/fixtures.js';
import {
  DOCTOR_PERMISSIONS,
  MARK_VITALS_ENTERED_IN_ERROR,
  RECORD_VITALS,
  registerPatient,
} from '../../testing/records.js';

interface Panel {
  id: string;
  status: string;
  measurements: { id: string; kind: string; value: number; status: string }[];
}

const LATEST = `
  query Latest($id: ID!) {
    patient(id: $id) {
      latestVitals {
        bodyTemperature { value unit effectiveAt }
        heartRate { value }
        bodyHeight { value }
        bodyWeight { value }
        bodyMassIndex { value status bmiHeightSource }
        headCircumference { value }
      }
    }
  }
`;

const SERIES = `
  query Series($id: ID!, $code: String, $from: DateTime, $to: DateTime, $first: Int, $after: String) {
    patient(id: $id) {
      vitalSigns(code: $code, from: $from, to: $to, first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage endCursor }
        edges { cursor node { id code value effectiveAt } }
      }
    }
  }
`;

const GROWTH = `
  query Growth($id: ID!) {
    patient(id: $id) {
      age { years months days display }
      growth {
        bodyHeight { value unit effectiveAt ageAtMeasurement { years months days display } }
        bodyWeight { value ageAtMeasurement { display } }
        bodyMassIndex { value }
        headCircumference { value ageAtMeasurement { display totalDays } }
      }
    }
  }
`;

type Series = {
  patient: {
    vitalSigns: {
      totalCount: number;
      pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null };
      edges: { node: { id: string; code: string; value: number; effectiveAt: string } }[];
    };
  };
};

describe('vital sign reads and corrections', () => {
  let harness: ClinicalHarness;
  let admin: pg.Client;
  let token: string;

  before(async () => {
    harness = await startHarness();
    admin = new pg.Client({ connectionString: harness.database.adminUrl });
    await admin.connect();
    token = await harness.token(newId(), DOCTOR_PERMISSIONS);
  });

  after(async () => {
    await admin?.end();
    await harness?.stop();
  });

  const record = async (patientId: string, effectiveAt: string, input: Record<string, unknown>) => {
    const { body } = await harness.graphql<{ recordVitalSigns: Panel }>(
      RECORD_VITALS,
      { input: { patientId, effectiveAt, ...input } },
      token,
    );
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    return body.data!.recordVitalSigns;
  };

  test('latest value per kind', async () => {
    const patientId = await registerPatient(harness, token);
    await record(patientId, '2026-01-01T08:00:00Z', {
      bodyTemperature: { value: 38.5, unit: 'Cel' },
      heartRate: { value: 100, unit: '/min' },
    });
    await record(patientId, '2026-01-02T08:00:00Z', { bodyTemperature: { value: 99.5, unit: '[degF]' } });
    // Recorded later, but measured earlier: not the latest.
    await record(patientId, '2025-12-31T08:00:00Z', { heartRate: { value: 60, unit: '/min' } });

    const { body } = await harness.graphql<{ patient: { latestVitals: Record<string, unknown> } }>(
      LATEST,
      { id: patientId },
      token,
    );
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    const latest = body.data!.patient.latestVitals;
    assert.deepEqual(latest.bodyTemperature, {
      value: 37.5,
      unit: 'Cel',
      effectiveAt: '2026-01-02T08:00:00.000Z',
    });
    assert.deepEqual(latest.heartRate, { value: 100 });
    assert.equal(latest.bodyWeight, null);
  });

  test('series pages newest first', async () => {
    const patientId = await registerPatient(harness, token);
    for (let day = 1; day <= 5; day += 1) {
      await record(patientId, `2026-02-0${day}T08:00:00Z`, {
        heartRate: { value: 60 + day, unit: '/min' },
        respiratoryRate: { value: 12, unit: '/min' },
      });
    }

    const first = await harness.graphql<Series>(SERIES, { id: patientId, code: '8867-4', first: 2 }, token);
    const page1 = first.body.data!.patient.vitalSigns;
    assert.equal(page1.totalCount, 5);
    assert.deepEqual(
      page1.edges.map((edge) => edge.node.value),
      [65, 64],
    );
    assert.equal(page1.pageInfo.hasNextPage, true);
    assert.equal(page1.pageInfo.hasPreviousPage, false);

    const second = await harness.graphql<Series>(
      SERIES,
      { id: patientId, code: '8867-4', first: 10, after: page1.pageInfo.endCursor },
      token,
    );
    const page2 = second.body.data!.patient.vitalSigns;
    assert.deepEqual(
      page2.edges.map((edge) => edge.node.value),
      [63, 62, 61],
    );
    assert.equal(page2.totalCount, 5);
    assert.equal(page2.pageInfo.hasNextPage, false);
    assert.equal(page2.pageInfo.hasPreviousPage, true);

    const past = await harness.graphql<Series>(
      SERIES,
      { id: patientId, code: '8867-4', first: 10, after: page2.pageInfo.endCursor },
      token,
    );
    assert.deepEqual(past.body.data!.patient.vitalSigns.edges, []);
    assert.equal(past.body.data!.patient.vitalSigns.totalCount, 5);
  });

  test('series of the blood pressure panel', async () => {
    const patientId = await registerPatient(harness, token);
    await record(patientId, '2026-03-01T08:00:00Z', {
      bloodPressure: { systolic: 130, diastolic: 85, unit: 'mm[Hg]' },
      heartRate: { value: 80, unit: '/min' },
    });

    const { body } = await harness.graphql<Series>(SERIES, { id: patientId, code: '85354-9' }, token);

    assert.deepEqual(body.data!.patient.vitalSigns.edges.map((edge) => edge.node.code).sort(), [
      '8462-4',
      '8480-6',
    ]);
  });

  test('series within a time range', async () => {
    const patientId = await registerPatient(harness, token);
    for (let day = 1; day <= 4; day += 1) {
      await record(patientId, `2026-03-0${day}T08:00:00Z`, { heartRate: { value: 70 + day, unit: '/min' } });
    }

    const { body } = await harness.graphql<Series>(
      SERIES,
      { id: patientId, from: '2026-03-02T08:00:00Z', to: '2026-03-04T08:00:00Z' },
      token,
    );

    assert.deepEqual(
      body.data!.patient.vitalSigns.edges.map((edge) => edge.node.value),
      [73, 72],
    );
    assert.equal(body.data!.patient.vitalSigns.totalCount, 2);
  });

  test('series arguments validated', async () => {
    const patientId = await registerPatient(harness, token);

    const badCode = await harness.graphql(SERIES, { id: patientId, code: '1234-5' }, token);
    const badRange = await harness.graphql(
      SERIES,
      { id: patientId, from: '2026-03-04T00:00:00Z', to: '2026-03-01T00:00:00Z' },
      token,
    );
    const badCursor = await harness.graphql(SERIES, { id: patientId, after: 'nonsense' }, token);

    assert.deepEqual(invalidFields(badCode.body), ['code']);
    assert.deepEqual(invalidFields(badRange.body), ['to']);
    assert.deepEqual(invalidFields(badCursor.body), ['after']);
  });

  test('entered in error leaves latest and series', async () => {
    const patientId = await registerPatient(harness, token);
    const good = await record(patientId, '2026-01-01T08:00:00Z', {
      bodyHeight: { value: 170, unit: 'cm' },
      bodyWeight: { value: 72.25, unit: 'kg' },
    });
    const wrong = await record(patientId, '2026-01-02T08:00:00Z', {
      bodyHeight: { value: 107, unit: 'cm' },
    });
    // This weight's BMI uses the wrong height, the latest one before it.
    const later = await record(patientId, '2026-01-03T08:00:00Z', { bodyWeight: { value: 72, unit: 'kg' } });
    const derivedBmi = later.measurements.find((m) => m.kind === 'BODY_MASS_INDEX')!;
    assert.equal(derivedBmi.value, 62.89);

    const { body } = await harness.graphql<{
      markVitalSignsEnteredInError: Panel & { enteredInErrorReason: string };
    }>(MARK_VITALS_ENTERED_IN_ERROR, { id: wrong.id, reason: 'Height typed as 107 instead of 170' }, token);
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    const marked = body.data!.markVitalSignsEnteredInError;
    assert.equal(marked.status, 'ENTERED_IN_ERROR');
    assert.equal(marked.enteredInErrorReason, 'Height typed as 107 instead of 170');
    assert.ok(marked.measurements.every((m) => m.status === 'ENTERED_IN_ERROR'));

    const { body: read } = await harness.graphql<{
      patient: {
        latestVitals: { bodyHeight: { value: number }; bodyMassIndex: { value: number; status: string } };
      };
    }>(LATEST, { id: patientId }, token);
    assert.equal(read.data!.patient.latestVitals.bodyHeight.value, 170);
    // The later panel's BMI was computed from the wrong height, so it went with it.
    assert.equal(read.data!.patient.latestVitals.bodyMassIndex.value, 25);
    const { rows } = await admin.query('select status from clinical.vital_signs where id = $1', [
      derivedBmi.id,
    ]);
    assert.equal(rows[0].status, 'ENTERED_IN_ERROR');
    assert.ok(good.id);
  });

  test('entered in error twice conflicts', async () => {
    const patientId = await registerPatient(harness, token);
    const panel = await record(patientId, '2026-01-01T08:00:00Z', { heartRate: { value: 70, unit: '/min' } });
    await harness.graphql(MARK_VITALS_ENTERED_IN_ERROR, { id: panel.id, reason: 'Wrong patient' }, token);

    const { body } = await harness.graphql(
      MARK_VITALS_ENTERED_IN_ERROR,
      { id: panel.id, reason: 'Again' },
      token,
    );

    assert.deepEqual(errorCodes(body), ['CONFLICT']);
  });

  test('entered in error needs a reason', async () => {
    const patientId = await registerPatient(harness, token);
    const panel = await record(patientId, '2026-01-01T08:00:00Z', { heartRate: { value: 70, unit: '/min' } });

    const { body } = await harness.graphql(
      MARK_VITALS_ENTERED_IN_ERROR,
      { id: panel.id, reason: '  ' },
      token,
    );

    assert.deepEqual(invalidFields(body), ['reason']);
  });

  test('growth chart with ages in the tenant zone', async () => {
    const tenantId = newId();
    const own = await harness.token(tenantId, DOCTOR_PERMISSIONS);
    await admin.query(
      "insert into clinical.tenant_settings (tenant_id, age_of_majority, time_zone) values ($1, 18, 'Asia/Kolkata')",
      [tenantId],
    );
    const patientId = await registerPatient(harness, own, {
      birthDate: '2025-06-15',
      guardians: [{ name: { given: ['Mary'], family: 'Lovelace' }, relationship: 'MOTHER' }],
    });
    const recordAs = (effectiveAt: string, input: Record<string, unknown>) =>
      harness.graphql(RECORD_VITALS, { input: { patientId, effectiveAt, ...input } }, own);

    // 19:00 UTC on 26 June is already 27 June in Kolkata: 12 days old there, 11 in UTC.
    await recordAs('2025-06-26T19:00:00Z', {
      bodyHeight: { value: 50, unit: 'cm' },
      bodyWeight: { value: 3.5, unit: 'kg' },
      headCircumference: { value: 35, unit: 'cm' },
    });
    await recordAs('2025-11-20T06:00:00Z', {
      bodyHeight: { value: 64, unit: 'cm' },
      bodyWeight: { value: 7, unit: 'kg' },
    });

    const { body } = await harness.graphql<{
      patient: {
        growth: {
          bodyHeight: {
            value: number;
            ageAtMeasurement: { display: string; days: number; months: number };
          }[];
          bodyWeight: unknown[];
          bodyMassIndex: { value: number }[];
          headCircumference: { ageAtMeasurement: { display: string; totalDays: number } }[];
        };
      };
    }>(GROWTH, { id: patientId }, own);
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    const growth = body.data!.patient.growth;
    assert.deepEqual(
      growth.bodyHeight.map((point) => [point.value, point.ageAtMeasurement.display]),
      [
        [50, '12 days'],
        [64, '5 months'],
      ],
    );
    assert.equal(growth.bodyWeight.length, 2);
    assert.deepEqual(
      growth.bodyMassIndex.map((point) => point.value),
      [14, 17.09],
    );
    assert.equal(growth.headCircumference[0]!.ageAtMeasurement.totalDays, 12);
  });
});
