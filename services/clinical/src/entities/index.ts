import { MrnCounter } from './mrn-counter.js';
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
  VitalSignPanel,
  VitalSign,
  Allergy,
  Problem,
  Prescription,
];
