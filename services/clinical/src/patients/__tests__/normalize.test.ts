import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ageInYears, latestDateOnEarth } from '../age.js';
import { foldText, searchTextOf } from '../normalize.js';
import { planSearch } from '../search.js';

describe('foldText', () => {
  test('drops accents and case', () => {
    assert.equal(foldText('José MÜLLER Çelik'), 'jose muller celik');
  });

  test('folds letters without decomposition', () => {
    assert.equal(foldText('Straße Ærø Łódź'), 'strasse aero lodz');
  });

  test('drops apostrophes and collapses spaces', () => {
    assert.equal(foldText("  O'Brien   D’Arcy "), 'obrien darcy');
  });
});

describe('searchTextOf', () => {
  test('joins names, MRN and phone digits', () => {
    assert.equal(
      searchTextOf({
        given: ['José', 'Luis'],
        family: 'García',
        mrn: 'MRN-000001',
        phoneDigits: '34612345678',
      }),
      'jose luis garcia mrn-000001 34612345678',
    );
  });
});

describe('planSearch', () => {
  test('blank search lists everything', () => {
    assert.deepEqual(planSearch('  '), { kind: 'all' });
    assert.deepEqual(planSearch(null), { kind: 'all' });
  });

  test('MRN forms become prefix', () => {
    assert.deepEqual(planSearch('MRN-0042'), { kind: 'mrn', prefix: 'MRN-0042' });
    assert.deepEqual(planSearch('mrn 0042'), { kind: 'mrn', prefix: 'MRN-0042' });
  });

  test('plus number becomes phone prefix', () => {
    assert.deepEqual(planSearch('+44 (20) 7946-09'), { kind: 'phone', prefix: '4420794609' });
  });

  test('bare digits become one fragment', () => {
    assert.deepEqual(planSearch('020 7946 0958'), { kind: 'text', fragments: ['02079460958'] });
  });

  test('words become folded fragments', () => {
    assert.deepEqual(planSearch('José  GARCÍA jose'), { kind: 'text', fragments: ['jose', 'garcia'] });
  });
});

describe('ageInYears', () => {
  test('counts birthday itself', () => {
    assert.equal(ageInYears('2008-06-15', '2026-06-15'), 18);
    assert.equal(ageInYears('2008-06-15', '2026-06-14'), 17);
  });

  test('leap day birthday comes on 1 March', () => {
    assert.equal(ageInYears('2008-02-29', '2026-02-28'), 17);
    assert.equal(ageInYears('2008-02-29', '2026-03-01'), 18);
  });
});

describe('latestDateOnEarth', () => {
  test('is ahead of UTC late in the day', () => {
    assert.equal(latestDateOnEarth(new Date('2026-01-01T12:00:00Z')), '2026-01-02');
    assert.equal(latestDateOnEarth(new Date('2026-01-01T09:00:00Z')), '2026-01-01');
  });
});
