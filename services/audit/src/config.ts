import { env, subgraphEnvShape } from '@hms/service-kit';
import type { z } from 'zod';

/** Environment variables of the audit subgraph. */
export const auditEnvShape = {
  ...subgraphEnvShape,
  /** The audit app role: reads and appends rows under row-level security, cannot change the schema. */
  HMS_DATABASE_URL: env.url('a PostgreSQL URL of the audit app role (hms_audit_app)'),
  HMS_PORT: env.port().default(4007),
  /** Kafka bootstrap servers as host:port, comma-separated; audit records arrive on hms.audit.v1. */
  HMS_KAFKA_BROKERS: env.list(),
};

export type AuditConfig = z.infer<z.ZodObject<typeof auditEnvShape>>;
