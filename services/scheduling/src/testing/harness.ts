import {
  create,
  EventEnvelopeSchema,
  packPayload,
  PatientRegisteredSchema,
  TenantCreatedSchema,
  TenantStatus,
  TenantStatusChangedSchema,
  timestampFromDate,
  UserCreatedSchema,
  UserDeactivatedSchema,
  type Any,
  type EventEnvelope,
} from '@hms/proto-schemas';
import {
  createLogger,
  createOrm,
  inTenantTransaction,
  migrate,
  newId,
  provisionRelayRole,
  upsertTenantSettings,
  type MikroORM,
} from '@hms/service-kit';
import {
  bearer,
  postGraphQL,
  provisionTestDatabase,
  startTestIssuer,
  testAdminUrl,
  testDatabaseName,
  type GraphQLResponse,
  type ServiceTestDatabase,
  type TestIssuer,
} from '@hms/test-kit';
import { startScheduling, type RunningScheduling, type StartSchedulingOptions } from '../app.js';
import { APPOINTMENT_READ, APPOINTMENT_WRITE } from '../appointments/resolvers.js';
import { entities } from '../entities/index.js';
import { extensions, leakproofFunctions, migrations } from '../migrations/index.js';
import { applyClinicalEvent } from '../replicas/clinical-consumer.js';
import { applyIdentityEvent } from '../replicas/identity-consumer.js';
import { SCHEDULE_MANAGE, SCHEDULE_READ } from '../schedules/resolvers.js';

/** Kafka of the local infrastructure (infra/start); consumer tests need it running. */
export const testKafkaBrokers = (process.env.HMS_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

/** Every scheduling permission, as a doctor who also manages schedules would hold them. */
export const ALL_PERMISSIONS = [APPOINTMENT_READ, APPOINTMENT_WRITE, SCHEDULE_READ, SCHEDULE_MANAGE];

/** Provisions the scheduling schema in the test database and applies its migrations as the owner. */
export async function migrateTestDatabase(): Promise<ServiceTestDatabase> {
  const database = await provisionTestDatabase('scheduling', extensions, leakproofFunctions);
  // The outbox policies name the relay role, so it must exist before the migrations.
  await provisionRelayRole({ adminUrl: testAdminUrl, database: testDatabaseName, service: 'scheduling' });
  const owner = await createOrm({ clientUrl: database.ownerUrl, schema: 'scheduling', entities, migrations });
  try {
    await migrate(owner);
  } finally {
    await owner.close();
  }
  return database;
}

/** Builds an envelope of `type` for `tenantId`, as identity or clinical would publish it. */
export function envelopeOf(
  tenantId: string,
  type: string,
  payload: Any,
  occurredAt = new Date(),
): EventEnvelope {
  return create(EventEnvelopeSchema, {
    eventId: newId(),
    type,
    occurredAt: timestampFromDate(occurredAt),
    producer: type.split('.')[0]!,
    tenantId,
    subject: { type: 'Test', id: tenantId },
    payload,
  });
}

export interface SchedulingHarness {
  url: string;
  database: ServiceTestDatabase;
  issuer: TestIssuer;
  /** An ORM on the app role, to apply replica events as the consumers do. */
  orm: MikroORM;
  running: RunningScheduling;
  /** Signs a token of a new user of `tenantId`; by default with every scheduling permission. */
  token(tenantId: string, perms?: string[]): Promise<string>;
  graphql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string,
  ): Promise<{ status: number; body: GraphQLResponse<T> }>;
  /** Applies an identity event through the identity consumer's handler. */
  applyIdentity(envelope: EventEnvelope): Promise<void>;
  /** Creates a tenant in `timeZone`, as identity's tenant.created event does. */
  createTenant(timeZone?: string): Promise<string>;
  /** Announces an active practitioner (identity.user.created with the doctor role); returns their id. */
  addPractitioner(tenantId: string): Promise<string>;
  /** Deactivates a practitioner, as identity.user.deactivated does. */
  deactivatePractitioner(tenantId: string, userId: string): Promise<void>;
  /** Announces a patient (clinical.patient.registered); returns their id. */
  addPatient(tenantId: string): Promise<string>;
  /** Changes the tenant's status, as identity.tenant.status_changed does. */
  setTenantStatus(tenantId: string, status: TenantStatus): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the scheduling subgraph in-process on a free loopback port, against the migrated test
 * database and a test issuer. Kafka is off unless `kafkaBrokers` is given: tests feed the replicas
 * through the consumers' own handlers, and consumer tests start the real consumers.
 */
export async function startHarness(
  options: Pick<StartSchedulingOptions, 'onQuery' | 'consumers'> & { kafkaBrokers?: string[] } = {},
): Promise<SchedulingHarness> {
  const database = await migrateTestDatabase();
  const issuer = await startTestIssuer();
  let running: RunningScheduling;
  try {
    running = await startScheduling(
      {
        HMS_ENV: 'test',
        HMS_REDIS_URL: 'redis://127.0.0.1:6379',
        HMS_JWKS_URL: issuer.jwksUrl,
        HMS_JWT_ISSUER: issuer.issuer,
        HMS_JWT_AUDIENCE: issuer.audience,
        HMS_DATABASE_URL: database.appUrl,
        HMS_PORT: 0,
        HMS_KAFKA_BROKERS: options.kafkaBrokers,
      },
      {
        host: '127.0.0.1',
        onQuery: options.onQuery,
        consumers: options.consumers,
        logger: createLogger('scheduling', process.env.HMS_LOG_LEVEL ?? 'warn'),
      },
    );
  } catch (error) {
    await issuer.stop();
    throw error;
  }
  const orm = await createOrm({ clientUrl: database.appUrl, schema: 'scheduling', entities });

  const applyIdentity = (envelope: EventEnvelope) =>
    inTenantTransaction(orm, envelope.tenantId, (em) => applyIdentityEvent(em, envelope));

  return {
    url: running.url,
    database,
    issuer,
    orm,
    running,
    token: (tenantId, perms = ALL_PERMISSIONS) => issuer.sign({ tid: tenantId, perms }),
    graphql: (query, variables = {}, token) =>
      postGraphQL(running.url, query, variables, token ? bearer(token) : {}),
    applyIdentity,
    createTenant: async (timeZone = 'UTC') => {
      const tenantId = newId();
      const payload = {
        tenantId,
        slug: `t-${tenantId.slice(-8)}`,
        status: TenantStatus.ACTIVE,
        readAuditEnabled: true,
        ageOfMajority: 18,
        timeZone,
      };
      const envelope = envelopeOf(
        tenantId,
        'identity.tenant.created',
        packPayload(TenantCreatedSchema, create(TenantCreatedSchema, payload)),
      );
      await applyIdentity(envelope);
      await inTenantTransaction(orm, tenantId, (em) =>
        upsertTenantSettings(em, 'scheduling', envelope, { time_zone: timeZone, read_audit_enabled: true }),
      );
      return tenantId;
    },
    addPractitioner: async (tenantId) => {
      const userId = newId();
      await applyIdentity(
        envelopeOf(
          tenantId,
          'identity.user.created',
          packPayload(UserCreatedSchema, create(UserCreatedSchema, { userId, roles: ['doctor'] })),
        ),
      );
      return userId;
    },
    deactivatePractitioner: (tenantId, userId) =>
      applyIdentity(
        envelopeOf(
          tenantId,
          'identity.user.deactivated',
          packPayload(UserDeactivatedSchema, create(UserDeactivatedSchema, { userId })),
        ),
      ),
    addPatient: async (tenantId) => {
      const patientId = newId();
      const envelope = envelopeOf(
        tenantId,
        'clinical.patient.registered',
        packPayload(
          PatientRegisteredSchema,
          create(PatientRegisteredSchema, { patientId, mrn: 'MRN-000001' }),
        ),
      );
      await inTenantTransaction(orm, tenantId, (em) => applyClinicalEvent(em, envelope));
      return patientId;
    },
    setTenantStatus: (tenantId, status) =>
      applyIdentity(
        envelopeOf(
          tenantId,
          'identity.tenant.status_changed',
          packPayload(
            TenantStatusChangedSchema,
            create(TenantStatusChangedSchema, {
              tenantId,
              oldStatus: TenantStatus.ACTIVE,
              newStatus: status,
            }),
          ),
        ),
      ),
    stop: async () => {
      await orm.close();
      await running.stop();
      await issuer.stop();
    },
  };
}
