/** The whole chart of one patient, as a clinician's screen loads it: one query through the gateway. */
export const CHART = `
  query Chart($id: ID!, $from: DateTime!) {
    patient(id: $id) {
      id mrn sex birthDate phone
      name { text }
      age { years display }
      isMinor
      ageOfMajority
      guardians { name { text } relationship }
      openEncounters {
        id class status chiefComplaint startedAt
        department { code }
        attending { id displayName }
        diagnoses { code text primary }
        admission { admittedAt ward { code } bed { code status } }
      }
      currentAdmission { admittedAt ward { code } bed { code } }
      latestVitals {
        heartRate { value unit effectiveAt }
        bodyTemperature { value unit }
        systolicBloodPressure { value }
        diastolicBloodPressure { value }
        bodyWeight { value unit effectiveAt }
      }
      problems(status: [ACTIVE, RECURRENCE]) { id status condition { code display } }
      allergies(clinicalStatus: [ACTIVE]) { id substance { display } criticality clinicalStatus }
      prescriptions(status: [ACTIVE]) {
        id status medication { display } dose { value unit } frequency { timesPerPeriod periodUnit }
        prescriber { id displayName }
      }
      appointments(from: $from, status: [BOOKED, CHECKED_IN], first: 20) {
        totalCount
        edges { node { id startsAt status practitioner { id displayName } } }
      }
    }
  }
`;
