/** URIs of the code systems, as FHIR names them. */
export const SYSTEM_URIS: Record<string, string> = {
  RXNORM: 'http://www.nlm.nih.gov/research/umls/rxnorm',
  SNOMED_CT: 'http://snomed.info/sct',
  ICD_10: 'http://hl7.org/fhir/sid/icd-10',
  ICD_10_CM: 'http://hl7.org/fhir/sid/icd-10-cm',
  LOINC: 'http://loinc.org',
};

/** A concept as the CodedConcept type serves it. */
export interface ConceptView {
  system: string | null;
  systemUri: string | null;
  code: string | null;
  display: string;
}

export function conceptView(
  system: string | null | undefined,
  code: string | null | undefined,
  display: string,
): ConceptView {
  return {
    system: system ?? null,
    systemUri: system ? (SYSTEM_URIS[system] ?? null) : null,
    code: code ?? null,
    display,
  };
}

/** Builds a reference to a user of the identity subgraph, which resolves its other fields. */
export function userReference(id: string): { __typename: 'User'; id: string } {
  return { __typename: 'User', id };
}
