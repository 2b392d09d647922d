import { Admission } from './admission.js';
import { Bed } from './bed.js';
import { BedAssignment } from './bed-assignment.js';
import { Department } from './department.js';
import { Diagnosis } from './diagnosis.js';
import { DischargeSummary } from './discharge-summary.js';
import { DischargeSummaryVersion } from './discharge-summary-version.js';
import { Encounter } from './encounter.js';
import { MrnCounter } from './mrn-counter.js';
import { Note } from './note.js';
import { NoteVersion } from './note-version.js';
import { Ward } from './ward.js';
import { Patient } from './patient.js';
import { PatientGuardian } from './patient-guardian.js';
import { PatientIdentifier } from './patient-identifier.js';
import { TenantSetting } from './tenant-setting.js';
import { Allergy } from './allergy.js';
import { Prescription } from './prescription.js';
import { Problem } from './problem.js';
import { VitalSign, VitalSignPanel } from './vital-sign.js';

/** Every entity of the clinical service, for the ORM and the migration job. */
export const entities = [
  Patient,
  PatientIdentifier,
  PatientGuardian,
  TenantSetting,
  MrnCounter,
  // Encounters, wards and beds, notes and discharge summaries.
  Department,
  Encounter,
  Diagnosis,
  Ward,
  Bed,
  Admission,
  BedAssignment,
  Note,
  NoteVersion,
  DischargeSummary,
  DischargeSummaryVersion,
  // Vital signs, allergies, problems and prescriptions.
  VitalSignPanel,
  VitalSign,
  Allergy,
  Problem,
  Prescription,
];
