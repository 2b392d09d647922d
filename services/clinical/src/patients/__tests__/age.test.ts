import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ageBetween, ageInYears, isMinor, localDateOf, patientAge } from '../age.js';

describe('localDateOf', () => {
  test('date in Kolkata ahead of UTC', () => {
    // 20:00 UTC is 01:30 the next day in Asia/Kolkata (UTC+05:30).
    assert.equal(localDateOf(new Date('2026-03-14T20:00:00Z'), 'Asia/Kolkata'), '2026-03-15');
    assert.equal(localDateOf(new Date('2026-03-14T20:00:00Z'), 'UTC'), '2026-03-14');
  });

  test('date in New York behind UTC', () => {
    assert.equal(localDateOf(new Date('2026-03-15T03:00:00Z'), 'America/New_York'), '2026-03-14');
  });

  test('unknown zone named in the error', () => {
    assert.throws(() => localDateOf(new Date(), 'Mars/Olympus'), /Mars\/Olympus/);
  });
});

describe('ageBetween', () => {
  test('newborn on the birth day', () => {
    const age = ageBetween('2026-03-15', '2026-03-15');

    assert.deepEqual(age, { years: 0, months: 0, days: 0, totalMonths: 0, totalDays: 0, display: '0 days' });
  });

  test('one day old', () => {
    assert.equal(ageBetween('2026-03-15', '2026-03-16').display, '1 day');
  });

  test('twelve days old', () => {
    const age = ageBetween('2026-03-01', '2026-03-13');

    assert.equal(age.days, 12);
    assert.equal(age.display, '12 days');
  });

  test('birth date after the reference date counts as 0 days', () => {
    assert.equal(ageBetween('2026-03-16', '2026-03-15').display, '0 days');
  });

  test('months under one year', () => {
    const age = ageBetween('2025-10-10', '2026-03-20');

    assert.equal(age.months, 5);
    assert.equal(age.days, 10);
    assert.equal(age.display, '5 months');
  });

  test('years and months under five', () => {
    const age = ageBetween('2023-12-04', '2026-03-04');

    assert.equal(age.years, 2);
    assert.equal(age.months, 3);
    assert.equal(age.days, 0);
    assert.equal(age.totalMonths, 27);
    assert.equal(age.display, '2 years 3 months');
  });

  test('whole years hide zero months', () => {
    assert.equal(ageBetween('2024-03-04', '2026-03-04').display, '2 years');
    assert.equal(ageBetween('2025-03-04', '2026-04-05').display, '1 year 1 month');
  });

  test('years only from five', () => {
    assert.equal(ageBetween('2020-01-01', '2026-06-30').display, '6 years');
  });

  test('day counts cross a leap day', () => {
    assert.equal(ageBetween('2024-02-01', '2024-03-01').totalDays, 29);
    assert.equal(ageBetween('2025-02-01', '2025-03-01').totalDays, 28);
  });

  test('month anniversary of the 31st falls on the 1st', () => {
    const beforeIt = ageBetween('2026-01-31', '2026-02-28');
    const onIt = ageBetween('2026-01-31', '2026-03-01');

    assert.equal(beforeIt.totalMonths, 0);
    assert.equal(beforeIt.days, 28);
    assert.equal(onIt.totalMonths, 1);
    assert.equal(onIt.days, 0);
  });

  test('leap day birthday in a common year on 1 March', () => {
    const eve = ageBetween('2024-02-29', '2025-02-28');
    const birthday = ageBetween('2024-02-29', '2025-03-01');

    assert.equal(eve.years, 0);
    assert.equal(eve.months, 11);
    assert.equal(birthday.years, 1);
    assert.equal(birthday.months, 0);
    assert.equal(birthday.days, 0);
  });

  test('leap day birthday in a leap year on 29 February', () => {
    const birthday = ageBetween('2024-02-29', '2028-02-29');

    assert.equal(birthday.years, 4);
    assert.equal(birthday.days, 0);
    assert.equal(ageBetween('2024-02-29', '2028-02-28').years, 3);
  });

  test('years agree with ageInYears', () => {
    const births = ['2008-02-29', '2008-03-01', '2007-12-31', '2010-01-31', '2009-06-15'];
    const day = Date.UTC(2025, 0, 1);
    for (const birth of births) {
      for (let offset = 0; offset < 800; offset += 1) {
        const onDate = new Date(day + offset * 86_400_000).toISOString().slice(0, 10);
        assert.equal(ageBetween(birth, onDate).years, ageInYears(birth, onDate), `${birth} on ${onDate}`);
      }
    }
  });
});

describe('age in the tenant time zone', () => {
  // 2026-03-14T20:00Z is already 15 March in Kolkata, still 14 March in UTC.
  const instant = new Date('2026-03-14T20:00:00Z');

  test('birthday begun in Kolkata, not in UTC', () => {
    assert.equal(patientAge('2008-03-15', null, instant, 'Asia/Kolkata').years, 18);
    assert.equal(patientAge('2008-03-15', null, instant, 'UTC').years, 17);
  });

  test('isMinor flips at local midnight', () => {
    assert.equal(isMinor('2008-03-15', 18, null, instant, 'Asia/Kolkata'), false);
    assert.equal(isMinor('2008-03-15', 18, null, instant, 'UTC'), true);
  });

  test('deceased patient aged at death', () => {
    const died = new Date('2020-03-14T20:00:00Z');

    assert.equal(patientAge('2010-03-15', died, instant, 'Asia/Kolkata').display, '10 years');
    assert.equal(patientAge('2010-03-15', died, instant, 'UTC').display, '9 years');
  });
});
