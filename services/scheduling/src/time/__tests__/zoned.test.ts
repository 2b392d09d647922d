import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { freeSlotsOn } from '../../schedules/availability.js';
import type { ScheduleRecord } from '../../schedules/model.js';
import { edgeInstantOf, instantsOf, localIso, offsetMinutesAt, wallTimeOf } from '../zoned.js';

/** Returns a Sunday schedule from midnight to 06:00 in 30-minute slots, which spans the clock change. */
function nightSchedule(): ScheduleRecord {
  return {
    id: 'schedule',
    practitionerId: 'practitioner',
    department: 'emergency',
    location: null,
    slotMinutes: 30,
    weeklyHours: [{ weekday: 7, start: 0, end: 360 }],
    breaks: [],
    active: true,
    createdAt: new Date(),
    updatedAt: new Date(),
  };
}

const past = new Date('2000-01-01T00:00:00Z');

describe('wall-clock conversion', () => {
  test('offsets in summer and winter', () => {
    assert.equal(offsetMinutesAt(new Date('2027-07-01T12:00:00Z'), 'Europe/Berlin'), 120);
    assert.equal(offsetMinutesAt(new Date('2027-01-01T12:00:00Z'), 'Europe/Berlin'), 60);
    assert.equal(offsetMinutesAt(new Date('2027-07-01T12:00:00Z'), 'America/New_York'), -240);
    assert.equal(offsetMinutesAt(new Date('2027-07-01T12:00:00Z'), 'Asia/Kolkata'), 330);
  });

  test('skipped wall time has no instant', () => {
    assert.deepEqual(instantsOf('2027-03-28', 150, 'Europe/Berlin'), []);
    assert.deepEqual(instantsOf('2027-03-14', 150, 'America/New_York'), []);
  });

  test('repeated wall time has two instants', () => {
    assert.deepEqual(
      instantsOf('2027-10-31', 150, 'Europe/Berlin').map((instant) => instant.toISOString()),
      ['2027-10-31T00:30:00.000Z', '2027-10-31T01:30:00.000Z'],
    );
    assert.deepEqual(
      instantsOf('2027-11-07', 90, 'America/New_York').map((instant) => instant.toISOString()),
      ['2027-11-07T05:30:00.000Z', '2027-11-07T06:30:00.000Z'],
    );
  });

  test('edge in a gap moves past it', () => {
    assert.equal(edgeInstantOf('2027-03-28', 150, 'Europe/Berlin').toISOString(), '2027-03-28T01:30:00.000Z');
  });

  test('wall time and local ISO', () => {
    const instant = new Date('2027-03-28T01:00:00Z');
    assert.deepEqual(wallTimeOf(instant, 'Europe/Berlin'), { date: '2027-03-28', minutes: 180 });
    assert.equal(localIso(instant, 'Europe/Berlin'), '2027-03-28T03:00:00+02:00');
    assert.equal(localIso(new Date('2027-06-07T03:30:00Z'), 'Asia/Kolkata'), '2027-06-07T09:00:00+05:30');
  });
});

describe('slots across clock changes', () => {
  const cases = [
    {
      name: 'Berlin spring forward',
      zone: 'Europe/Berlin',
      date: '2027-03-28',
      count: 10,
      first: '2027-03-27T23:00:00.000Z',
      last: '2027-03-28T03:30:00.000Z',
      missing: ['02:00', '02:30'],
    },
    {
      name: 'New York spring forward',
      zone: 'America/New_York',
      date: '2027-03-14',
      count: 10,
      first: '2027-03-14T05:00:00.000Z',
      last: '2027-03-14T09:30:00.000Z',
      missing: ['02:00', '02:30'],
    },
    {
      name: 'Berlin fall back',
      zone: 'Europe/Berlin',
      date: '2027-10-31',
      count: 12,
      first: '2027-10-30T22:00:00.000Z',
      last: '2027-10-31T04:30:00.000Z',
      missing: [],
    },
    {
      name: 'New York fall back',
      zone: 'America/New_York',
      date: '2027-11-07',
      count: 12,
      first: '2027-11-07T04:00:00.000Z',
      last: '2027-11-07T10:30:00.000Z',
      missing: [],
    },
  ];

  for (const entry of cases) {
    test(entry.name, () => {
      const slots = freeSlotsOn(nightSchedule(), entry.date, entry.zone, [], [], past);
      const walls = slots.map((slot) => localIso(slot.start, entry.zone).slice(11, 16));

      assert.equal(slots.length, entry.count);
      assert.equal(slots[0]!.start.toISOString(), entry.first);
      assert.equal(slots.at(-1)!.start.toISOString(), entry.last);
      assert.equal(new Set(walls).size, walls.length, 'no wall time is offered twice');
      for (const wall of entry.missing) assert.ok(!walls.includes(wall), `${wall} does not exist`);
      for (let i = 1; i < slots.length; i++) {
        assert.ok(slots[i]!.start >= slots[i - 1]!.end, 'slots do not overlap');
      }
    });
  }

  test('repeated hour offered once', () => {
    const slots = freeSlotsOn(nightSchedule(), '2027-10-31', 'Europe/Berlin', [], [], past);
    const starts = slots.map((slot) => slot.start.toISOString());

    assert.ok(starts.includes('2027-10-31T00:00:00.000Z'), '02:00 CEST, its first occurrence');
    assert.ok(!starts.includes('2027-10-31T01:00:00.000Z'), '02:00 CET, its repetition');
    assert.ok(starts.includes('2027-10-31T02:00:00.000Z'), '03:00 CET');
  });
});
