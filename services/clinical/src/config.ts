import { env, subgraphEnvShape } from '@hms/service-kit';
import type { z } from 'zod';

/** Environment variables of the clinical subgraph. */
export const clinicalEnvShape = {
  ...subgraphEnvShape,
  /** The clinical app role: reads and writes rows under row-level security, cannot change the schema. */
  HMS_DATABASE_URL: env.url('a PostgreSQL URL of the clinical app role (hms_clinical_app)'),
  HMS_PORT: env.port().default(4002),
  /**
   * The outbox relay role (hms_clinical_relay). With HMS_KAFKA_BROKERS it runs the relay in this
   * process; without them events stay in the outbox until a relay runs.
   */
  HMS_OUTBOX_RELAY_DATABASE_URL: env
    .url('a PostgreSQL URL of the clinical relay role (hms_clinical_relay)')
    .optional(),
  HMS_KAFKA_BROKERS: env.list().optional(),
};

export type ClinicalConfig = z.infer<z.ZodObject<typeof clinicalEnvShape>>;
