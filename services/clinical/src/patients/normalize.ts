/**
 * Folding of names and search input, done in application code so that the stored `search_text` and a
 * query are folded by the same function and PostgreSQL needs no unaccent dictionary to index it.
 */

/** Letters that compatibility decomposition leaves whole, written the way people type them without accents. */
const LETTER_FOLDS: Record<string, string> = {
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  đ: 'd',
  ł: 'l',
  ı: 'i',
  þ: 'th',
  ð: 'd',
};

/**
 * Folds text for matching: lower case, accents and other combining marks removed ("José" and "JOSE"
 * both become "jose"), apostrophes dropped ("O'Brien" matches "obrien"), white space collapsed.
 */
export function foldText(value: string): string {
  return value
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[ßæœøđłıþð]/g, (letter) => LETTER_FOLDS[letter] ?? letter)
    .replace(/['’ʼ`´]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Builds the search text of a patient: the parts search matches, folded and joined by spaces. */
export function searchTextOf(parts: {
  given: string[];
  family: string;
  mrn: string;
  phoneDigits: string | null;
}): string {
  const words = [...parts.given, parts.family].map(foldText);
  words.push(parts.mrn.toLowerCase());
  if (parts.phoneDigits) words.push(parts.phoneDigits);
  return words.filter(Boolean).join(' ');
}

/** Builds the sort keys of the patient list, so "Müller" sorts with "Muller" whatever the database's locale. */
export function sortKeysOf(name: { given: string[]; family: string }): {
  familyKey: string;
  givenKey: string;
} {
  return { familyKey: foldText(name.family), givenKey: foldText(name.given.join(' ')) };
}

/** Keeps only the digits of a phone number as typed ("+44 20 7946-0958" gives "442079460958"). */
export function digitsOf(value: string): string {
  return value.replace(/\D/g, '');
}
