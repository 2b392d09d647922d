import { env, subgraphEnvShape } from '@hms/service-kit';
import type { z } from 'zod';

/** Environment variables of the scheduling subgraph. */
export const schedulingEnvShape = {
  ...subgraphEnvShape,
  /** The scheduling app role: reads and writes rows under row-level security, cannot change the schema. */
  HMS_DATABASE_URL: env.url('a PostgreSQL URL of the scheduling app role (hms_scheduling_app)'),
  HMS_PORT: env.port().default(4003),
  /**
   * The outbox relay role (hms_scheduling_relay). With HMS_KAFKA_BROKERS it runs the relay in this
   * process; without them events stay in the outbox until a relay runs.
   */
  HMS_OUTBOX_RELAY_DATABASE_URL: env
    .url('a PostgreSQL URL of the scheduling relay role (hms_scheduling_relay)')
    .optional(),
  /**
   * Kafka bootstrap servers as host:port, comma-separated. Without them scheduling learns of no
   * tenants, practitioners or patients, so every booking is rejected until they are set.
   */
  HMS_KAFKA_BROKERS: env.list().optional(),
};

export type SchedulingConfig = z.infer<z.ZodObject<typeof schedulingEnvShape>>;
