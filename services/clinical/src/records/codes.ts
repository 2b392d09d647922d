/**
 * Format checks of clinical codes, shared by diagnoses, problems, allergies, prescriptions and
 * discharge summaries so that one code is accepted or rejected the same way everywhere.
 */

/** ICD-10 codes as WHO and ICD-10-CM write them: a letter, two characters, then up to four after a dot. */
const ICD10_CODE = /^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$/;
/** SNOMED CT identifiers: 6 to 18 digits without a leading zero. */
const SNOMED_CT_CODE = /^[1-9][0-9]{5,17}$/;
/** RxNorm concept ids (RXCUI): 1 to 12 digits without a leading zero. */
const RXNORM_CODE = /^[1-9][0-9]{0,11}$/;

/** Returns true for the ICD-10 systems, whose codes are stored in upper case. */
export function isIcd10System(system: string): boolean {
  return system === 'ICD10' || system === 'ICD_10' || system === 'ICD_10_CM';
}

/**
 * Returns why `code` is not a valid code of `system`, as an error message for the code field, or
 * null when it is valid or the system has no format check. ICD-10 codes are expected in upper case.
 * NOTE: SNOMED CT check digits (Verhoeff) are not verified, only the length and digits.
 */
export function codeFormatError(system: string, code: string): string | null {
  if (isIcd10System(system) && !ICD10_CODE.test(code)) {
    return 'must be an ICD-10 code: a letter, two characters, then up to four after a dot, such as J45.909';
  }
  if (system === 'SNOMED_CT' && !SNOMED_CT_CODE.test(code)) {
    return 'must be a SNOMED CT concept id of 6 to 18 digits, such as 195967001';
  }
  if (system === 'RXNORM' && !RXNORM_CODE.test(code)) {
    return 'must be an RxNorm concept id (RXCUI) of 1 to 12 digits, such as 308182';
  }
  return null;
}
