// Protobuf contracts of HMS's Kafka messages: the generated schemas, envelope helpers and topics.
export * from './gen/hms/events/v1/envelope_pb.js';
export * from './gen/hms/identity/v1/events_pb.js';
export * from './gen/hms/clinical/v1/events_pb.js';
export * from './gen/hms/scheduling/v1/events_pb.js';
export * from './gen/hms/clinical/v1/encounter_events_pb.js';
export * from './gen/hms/clinical/v1/record_events_pb.js';
export * from './gen/hms/audit/v1/audit_record_pb.js';
export * from './envelope.js';
export * from './registry.js';
export * from './topics.js';
// Re-exported so services build envelopes without depending on @bufbuild/protobuf themselves.
export { create, isMessage, type MessageShape } from '@bufbuild/protobuf';
export { timestampDate, timestampFromDate, type Any, type Timestamp } from '@bufbuild/protobuf/wkt';
