import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newId } from '@hms/service-kit';
import { errorCodes } from '@hms/test-kit';
import { startHarness, type ClinicalHarness } from '../../testing/harness.js';
import { birthDateForAge, invalidFields, messageFor } from '../../testing/fixtures.js';
import { DOCTOR_PERMISSIONS, minutesAgo, RECORD_VITALS, registerPatient } from '../../testing/records.js';

interface Measurement {
  kind: string;
  code: string;
  value: number;
  unit: string;
  original: { value: number; unit: string };
  bmiHeightSource: string | null;
  bmiHeightId: string | null;
  id: string;
}

interface Recorded {
  recordVitalSigns: { id: string; status: string; measurements: Measurement[] } | null;
}

describe('recordVitalSigns', () => {
  let harness: ClinicalHarness;
  let token: string;
  let patientId: string;

  before(async () => {
    harness = await startHarness();
    token = await harness.token(newId(), DOCTOR_PERMISSIONS);
    patientId = await registerPatient(harness, token);
  });

  after(async () => {
    await harness?.stop();
  });

  const record = (input: Record<string, unknown>, as = token) =>
    harness.graphql<Recorded>(
      RECORD_VITALS,
      { input: { patientId, effectiveAt: minutesAgo(5), ...input } },
      as,
    );

  const measurementOf = (body: { data?: Recorded | null }, kind: string) =>
    body.data?.recordVitalSigns?.measurements.find((m) => m.kind === kind);

  test('stores a full panel with codes', async () => {
    const { body } = await record({
      bodyTemperature: { value: 37.2, unit: 'Cel' },
      heartRate: { value: 72, unit: '/min' },
      respiratoryRate: { value: 16, unit: '/min' },
      bloodPressure: { systolic: 120, diastolic: 80, unit: 'mm[Hg]' },
      oxygenSaturation: { value: 98, unit: '%' },
    });
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));

    const codes = body.data!.recordVitalSigns!.measurements.map((m) => [m.kind, m.code, m.value, m.unit]);
    assert.deepEqual(codes, [
      ['BODY_TEMPERATURE', '8310-5', 37.2, 'Cel'],
      ['HEART_RATE', '8867-4', 72, '/min'],
      ['RESPIRATORY_RATE', '9279-1', 16, '/min'],
      ['SYSTOLIC_BLOOD_PRESSURE', '8480-6', 120, 'mm[Hg]'],
      ['DIASTOLIC_BLOOD_PRESSURE', '8462-4', 80, 'mm[Hg]'],
      ['OXYGEN_SATURATION', '59408-5', 98, '%'],
    ]);
    assert.equal(body.data!.recordVitalSigns!.status, 'FINAL');
  });

  test('arterial saturation code kept', async () => {
    const { body } = await record({ oxygenSaturation: { value: 95.5, unit: '%', code: '2708-6' } });

    assert.equal(measurementOf(body, 'OXYGEN_SATURATION')?.code, '2708-6');
  });

  test('unknown saturation code rejected', async () => {
    const { body } = await record({ oxygenSaturation: { value: 95, unit: '%', code: '1234-5' } });

    assert.deepEqual(invalidFields(body), ['input.oxygenSaturation.code']);
  });

  test('fahrenheit converted to celsius exactly', async () => {
    const { body } = await record({ bodyTemperature: { value: 98.6, unit: '[degF]' } });

    const temperature = measurementOf(body, 'BODY_TEMPERATURE');
    assert.equal(temperature?.value, 37);
    assert.equal(temperature?.unit, 'Cel');
    assert.deepEqual(temperature?.original, { value: 98.6, unit: '[degF]' });
  });

  test('pounds converted to kilograms exactly', async () => {
    const { body } = await record({ bodyWeight: { value: 150, unit: '[lb_av]' } });

    const weight = measurementOf(body, 'BODY_WEIGHT');
    // 150 × 0.45359237 = 68.0388555, rounded to grams.
    assert.equal(weight?.value, 68.039);
    assert.equal(weight?.unit, 'kg');
    assert.deepEqual(weight?.original, { value: 150, unit: '[lb_av]' });
  });

  test('grams converted to kilograms', async () => {
    const { body } = await record({ bodyWeight: { value: 70500, unit: 'g' } });

    assert.equal(measurementOf(body, 'BODY_WEIGHT')?.value, 70.5);
  });

  test('inches and metres converted to centimetres', async () => {
    const { body: inches } = await record({ bodyHeight: { value: 70, unit: '[in_i]' } });
    const { body: metres } = await record({ bodyHeight: { value: 1.755, unit: 'm' } });

    assert.equal(measurementOf(inches, 'BODY_HEIGHT')?.value, 177.8);
    assert.equal(measurementOf(metres, 'BODY_HEIGHT')?.value, 175.5);
  });

  test('bmi from the same panel', async () => {
    const { body } = await record({
      bodyHeight: { value: 180, unit: 'cm' },
      bodyWeight: { value: 81, unit: 'kg' },
    });

    const bmi = measurementOf(body, 'BODY_MASS_INDEX');
    assert.equal(bmi?.value, 25);
    assert.equal(bmi?.unit, 'kg/m2');
    assert.equal(bmi?.code, '39156-5');
    assert.equal(bmi?.bmiHeightSource, 'SAME_PANEL');
    assert.equal(bmi?.bmiHeightId, measurementOf(body, 'BODY_HEIGHT')?.id);
  });

  test('bmi from the latest height', async () => {
    const own = await registerPatient(harness, token);
    const { body: heights } = await harness.graphql<Recorded>(
      RECORD_VITALS,
      { input: { patientId: own, effectiveAt: minutesAgo(60), bodyHeight: { value: 160, unit: 'cm' } } },
      token,
    );
    const heightId = measurementOf(heights, 'BODY_HEIGHT')?.id;

    const { body } = await harness.graphql<Recorded>(
      RECORD_VITALS,
      { input: { patientId: own, effectiveAt: minutesAgo(5), bodyWeight: { value: 64, unit: 'kg' } } },
      token,
    );

    const bmi = measurementOf(body, 'BODY_MASS_INDEX');
    assert.equal(bmi?.value, 25);
    assert.equal(bmi?.bmiHeightSource, 'LATEST_HEIGHT');
    assert.equal(bmi?.bmiHeightId, heightId);
  });

  test('no bmi without any height', async () => {
    const own = await registerPatient(harness, token);
    const { body } = await harness.graphql<Recorded>(
      RECORD_VITALS,
      { input: { patientId: own, effectiveAt: minutesAgo(5), bodyWeight: { value: 64, unit: 'kg' } } },
      token,
    );

    assert.equal(body.errors, undefined);
    assert.equal(measurementOf(body, 'BODY_MASS_INDEX'), undefined);
  });

  test('later height not used for bmi', async () => {
    const own = await registerPatient(harness, token);
    await harness.graphql(
      RECORD_VITALS,
      { input: { patientId: own, effectiveAt: minutesAgo(5), bodyHeight: { value: 170, unit: 'cm' } } },
      token,
    );

    const { body } = await harness.graphql<Recorded>(
      RECORD_VITALS,
      { input: { patientId: own, effectiveAt: minutesAgo(60), bodyWeight: { value: 64, unit: 'kg' } } },
      token,
    );

    assert.equal(measurementOf(body, 'BODY_MASS_INDEX'), undefined);
  });

  test('child bmi ignores an old height', async () => {
    const child = await registerPatient(harness, token, {
      birthDate: birthDateForAge(6),
      guardians: [{ name: { given: ['Mary'], family: 'Lovelace' }, relationship: 'MOTHER' }],
    });
    const recordFor = (effectiveAt: string, input: Record<string, unknown>) =>
      harness.graphql<Recorded>(RECORD_VITALS, { input: { patientId: child, effectiveAt, ...input } }, token);
    await recordFor(minutesAgo(60 * 24 * 60), { bodyHeight: { value: 110, unit: 'cm' } });

    const { body: stale } = await recordFor(minutesAgo(10), { bodyWeight: { value: 20, unit: 'kg' } });
    await recordFor(minutesAgo(60 * 24 * 10), { bodyHeight: { value: 115, unit: 'cm' } });
    const { body: recent } = await recordFor(minutesAgo(5), { bodyWeight: { value: 20, unit: 'kg' } });

    assert.equal(measurementOf(stale, 'BODY_MASS_INDEX'), undefined);
    assert.equal(measurementOf(recent, 'BODY_MASS_INDEX')?.value, 15.12);
    assert.equal(measurementOf(recent, 'BODY_MASS_INDEX')?.bmiHeightSource, 'LATEST_HEIGHT');
  });

  test('implausible bmi rejected', async () => {
    const { body } = await record({
      bodyHeight: { value: 50, unit: 'cm' },
      bodyWeight: { value: 300, unit: 'kg' },
    });

    assert.deepEqual(invalidFields(body).sort(), ['input.bodyHeight', 'input.bodyWeight']);
  });

  const rangeCases: [string, Record<string, unknown>, string, string][] = [
    [
      'temperature in Cel',
      { bodyTemperature: { value: 370, unit: 'Cel' } },
      'input.bodyTemperature.value',
      'from 25 to 45 Cel',
    ],
    [
      'temperature in degF',
      { bodyTemperature: { value: 60, unit: '[degF]' } },
      'input.bodyTemperature.value',
      'from 77 to 113 [degF] (25 to 45 Cel)',
    ],
    [
      'heart rate',
      { heartRate: { value: 500, unit: '/min' } },
      'input.heartRate.value',
      'from 20 to 300 /min',
    ],
    [
      'respiratory rate',
      { respiratoryRate: { value: 0, unit: '/min' } },
      'input.respiratoryRate.value',
      'from 2 to 120 /min',
    ],
    [
      'systolic',
      { bloodPressure: { systolic: 400, diastolic: 80, unit: 'mm[Hg]' } },
      'input.bloodPressure.systolic',
      'from 40 to 300 mm[Hg]',
    ],
    [
      'diastolic',
      { bloodPressure: { systolic: 120, diastolic: 5, unit: 'mm[Hg]' } },
      'input.bloodPressure.diastolic',
      'from 10 to 200 mm[Hg]',
    ],
    [
      'saturation',
      { oxygenSaturation: { value: 101, unit: '%' } },
      'input.oxygenSaturation.value',
      'from 50 to 100 %',
    ],
    [
      'height in cm',
      { bodyHeight: { value: 1.8, unit: 'cm' } },
      'input.bodyHeight.value',
      'from 20 to 280 cm',
    ],
    [
      'height in inches',
      { bodyHeight: { value: 200, unit: '[in_i]' } },
      'input.bodyHeight.value',
      'from 7.87 to 110.24 [in_i] (20 to 280 cm)',
    ],
    [
      'weight in kg',
      { bodyWeight: { value: 70000, unit: 'kg' } },
      'input.bodyWeight.value',
      'from 0.2 to 650 kg',
    ],
    [
      'weight in pounds',
      { bodyWeight: { value: 2000, unit: '[lb_av]' } },
      'input.bodyWeight.value',
      'from 0.44 to 1433 [lb_av] (0.2 to 650 kg)',
    ],
  ];
  for (const [name, input, field, range] of rangeCases) {
    test(`out of range: ${name}`, async () => {
      const { body } = await record(input);

      assert.deepEqual(errorCodes(body), ['BAD_USER_INPUT']);
      assert.deepEqual(invalidFields(body), [field]);
      assert.match(
        messageFor(body, field) ?? '',
        new RegExp(`must be ${range.replace(/[[\]().]/g, '\\$&')}`),
      );
    });
  }

  const unitCases: [string, Record<string, unknown>, string, string][] = [
    [
      'temperature',
      { bodyTemperature: { value: 37, unit: 'C' } },
      'input.bodyTemperature.unit',
      'Cel, [degF]',
    ],
    ['heart rate', { heartRate: { value: 70, unit: 'bpm' } }, 'input.heartRate.unit', '/min'],
    [
      'respiratory rate',
      { respiratoryRate: { value: 12, unit: '/s' } },
      'input.respiratoryRate.unit',
      '/min',
    ],
    [
      'blood pressure',
      { bloodPressure: { systolic: 120, diastolic: 80, unit: 'kPa' } },
      'input.bloodPressure.unit',
      'mm[Hg]',
    ],
    ['saturation', { oxygenSaturation: { value: 0.97, unit: '1' } }, 'input.oxygenSaturation.unit', '%'],
    ['height', { bodyHeight: { value: 6, unit: 'ft' } }, 'input.bodyHeight.unit', 'cm, m, [in_i]'],
    ['weight', { bodyWeight: { value: 150, unit: 'lb' } }, 'input.bodyWeight.unit', 'kg, g, [lb_av]'],
    [
      'head circumference',
      { headCircumference: { value: 40, unit: 'mm' } },
      'input.headCircumference.unit',
      'cm, [in_i]',
    ],
  ];
  for (const [name, input, field, allowed] of unitCases) {
    test(`unknown unit: ${name}`, async () => {
      const { body } = await record(input);

      assert.deepEqual(invalidFields(body), [field]);
      assert.ok(
        messageFor(body, field)?.includes(`must be one of ${allowed} (UCUM)`),
        messageFor(body, field),
      );
    });
  }

  test('diastolic not below systolic rejected', async () => {
    const { body } = await record({ bloodPressure: { systolic: 80, diastolic: 90, unit: 'mm[Hg]' } });

    assert.deepEqual(invalidFields(body), ['input.bloodPressure.diastolic']);
    assert.match(
      messageFor(body, 'input.bloodPressure.diastolic') ?? '',
      /lower than the systolic pressure \(80 mm\[Hg\]\)/,
    );
  });

  test('future effectiveAt rejected', async () => {
    const { body } = await record({
      effectiveAt: new Date(Date.now() + 3_600_000).toISOString(),
      heartRate: { value: 70, unit: '/min' },
    });

    assert.deepEqual(invalidFields(body), ['input.effectiveAt']);
  });

  test('past effectiveAt accepted', async () => {
    const { body } = await record({
      effectiveAt: '2010-05-01T08:00:00Z',
      heartRate: { value: 70, unit: '/min' },
    });

    assert.equal(body.errors, undefined);
  });

  test('effectiveAt before birth rejected', async () => {
    const { body } = await record({
      effectiveAt: '1980-05-01T08:00:00Z',
      heartRate: { value: 70, unit: '/min' },
    });

    assert.deepEqual(invalidFields(body), ['input.effectiveAt']);
  });

  test('empty panel rejected', async () => {
    const { body } = await record({});

    assert.deepEqual(invalidFields(body), ['input']);
  });

  test('head circumference of an adult rejected', async () => {
    const { body } = await record({ headCircumference: { value: 56, unit: 'cm' } });

    assert.deepEqual(invalidFields(body), ['input.headCircumference']);
    assert.match(messageFor(body, 'input.headCircumference') ?? '', /under the age of majority \(18\)/);
  });

  test('head circumference of a child stored', async () => {
    const child = await registerPatient(harness, token, {
      birthDate: birthDateForAge(1),
      guardians: [{ name: { given: ['Mary'], family: 'Lovelace' }, relationship: 'MOTHER' }],
    });
    const { body } = await harness.graphql<Recorded>(
      RECORD_VITALS,
      {
        input: {
          patientId: child,
          effectiveAt: minutesAgo(5),
          headCircumference: { value: 18, unit: '[in_i]' },
        },
      },
      token,
    );

    const head = measurementOf(body, 'HEAD_CIRCUMFERENCE');
    assert.equal(head?.value, 45.72);
    assert.equal(head?.code, '9843-4');
  });

  test('unknown patient not found', async () => {
    const { body } = await harness.graphql(
      RECORD_VITALS,
      { input: { patientId: newId(), effectiveAt: minutesAgo(5), heartRate: { value: 70, unit: '/min' } } },
      token,
    );

    assert.deepEqual(errorCodes(body), ['NOT_FOUND']);
  });

  test('malformed encounter id rejected', async () => {
    const { body } = await record({ encounterId: 'visit-1', heartRate: { value: 70, unit: '/min' } });

    assert.deepEqual(invalidFields(body), ['input.encounterId']);
  });
});
