import {
  createLogger,
  createOrm,
  createTokenVerifier,
  scalarResolvers,
  startSubgraphServer,
  type Logger,
} from '@hms/service-kit';
import type { AuditConfig } from './config.js';
import { entities } from './entities/index.js';
import { incidentResolvers } from './incidents/resolvers.js';
import { auditRecordResolvers } from './records/resolvers.js';
import { loadTypeDefs } from './type-defs.js';

export interface StartAuditOptions {
  logger?: Logger;
  /** Interface to listen on; 0.0.0.0 by default, tests pass 127.0.0.1. */
  host?: string;
  /** Sees every SQL statement the ORM sends, for tests that count queries. */
  onQuery?: (sql: string) => void;
}

export interface RunningAudit {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Starts the audit subgraph: the ORM on the app role, then the GraphQL server. */
export async function startAudit(
  config: AuditConfig,
  options: StartAuditOptions = {},
): Promise<RunningAudit> {
  const logger = options.logger ?? createLogger('audit');
  const orm = await createOrm({ clientUrl: config.HMS_DATABASE_URL, schema: 'audit', entities });
  const onQuery = options.onQuery;
  if (onQuery) {
    orm.config.set('onQuery', (sql: string) => {
      onQuery(sql);
      return sql;
    });
  }

  try {
    const records = auditRecordResolvers(orm);
    const incidents = incidentResolvers(orm);
    const server = await startSubgraphServer({
      name: 'audit',
      port: config.HMS_PORT,
      host: options.host,
      typeDefs: loadTypeDefs(),
      resolvers: {
        ...scalarResolvers,
        ...records,
        ...incidents,
        Query: { ...records.Query, ...incidents.Query },
      },
      verifyToken: createTokenVerifier({
        jwksUrl: config.HMS_JWKS_URL,
        issuer: config.HMS_JWT_ISSUER,
        audience: config.HMS_JWT_AUDIENCE,
      }),
      logger,
      production: config.HMS_ENV === 'production',
      readiness: { database: () => orm.em.fork().getConnection().execute('select 1') },
    });
    return {
      url: server.url,
      port: server.port,
      stop: async () => {
        await server.stop();
        await orm.close();
      },
    };
  } catch (error) {
    await orm.close();
    throw error;
  }
}
