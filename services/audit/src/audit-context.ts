import { requirePrincipal, type SubgraphContext } from '@hms/service-kit';
import type { ActorKind, AuditRecordInput } from './records/input.js';

/** Name this service writes as the producer of its own audit records. */
export const AUDIT_PRODUCER = 'audit';

/** The parts of an audit record that describe the request: who acted, from where, in which trace. */
export type RequestAuditFields = Pick<AuditRecordInput, 'actor' | 'traceId' | 'requestId' | 'producer'>;

const ACTOR_KIND_OF_TOKEN: Record<string, ActorKind> = {
  user: 'USER',
  service: 'SERVICE_ACCOUNT',
  platform: 'PLATFORM_OPERATOR',
};

/** Describes the caller of a GraphQL request for the audit records its writes produce. */
export function requestAuditFields(context: SubgraphContext): RequestAuditFields {
  const principal = requirePrincipal(context);
  return {
    actor: {
      kind: ACTOR_KIND_OF_TOKEN[principal.claims.typ] ?? 'UNSPECIFIED',
      id: principal.subject,
      sessionId: principal.sessionId,
      roles: [...principal.roles],
      ip: context.clientIp,
      userAgent: context.userAgent,
    },
    traceId: context.traceId,
    requestId: context.requestId,
    producer: AUDIT_PRODUCER,
  };
}
