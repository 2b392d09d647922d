import { timestampFromDate, type Timestamp } from '@hms/proto-schemas';
import { createPublisher } from '@hms/service-kit';

/** The publisher of scheduling's domain events and audit records. */
export const publisher = createPublisher('scheduling');

/** Converts an instant for an event payload. */
export function timestampOf(instant: Date): Timestamp {
  return timestampFromDate(instant);
}
