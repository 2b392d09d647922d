import { createRegistry, type Registry } from '@bufbuild/protobuf';
import { file_hms_audit_v1_audit_record } from './gen/hms/audit/v1/audit_record_pb.js';
import { file_hms_clinical_v1_encounter_events } from './gen/hms/clinical/v1/encounter_events_pb.js';
import { file_hms_clinical_v1_events } from './gen/hms/clinical/v1/events_pb.js';
import { file_hms_clinical_v1_record_events } from './gen/hms/clinical/v1/record_events_pb.js';
import { file_hms_identity_v1_events } from './gen/hms/identity/v1/events_pb.js';
import { file_hms_scheduling_v1_events } from './gen/hms/scheduling/v1/events_pb.js';

/**
 * Registry of every message HMS may carry in EventEnvelope.payload. unpackPayload resolves type URLs
 * here, so a payload file missing from this list cannot be read by consumers.
 */
export const payloadRegistry: Registry = createRegistry(
  file_hms_identity_v1_events,
  file_hms_clinical_v1_events,
  file_hms_scheduling_v1_events,
  file_hms_clinical_v1_encounter_events,
  file_hms_clinical_v1_record_events,
  file_hms_audit_v1_audit_record,
);
