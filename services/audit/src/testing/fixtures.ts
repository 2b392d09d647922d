/** Every field an AuditRecord serves, for queries whose results are compared whole. */
export const AUDIT_RECORD_FIELDS = `
  id sequence occurredAt receivedAt action operation entityType entityId patientId changedFields
  outcome reason traceId requestId producer
  actor { kind id sessionId roles ip userAgent }
`;

export const AUDIT_RECORDS = `
  query Records($filter: AuditRecordFilter, $first: Int, $after: String) {
    auditRecords(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { ${AUDIT_RECORD_FIELDS} } }
    }
  }
`;

export const VERIFY_CHAIN = `
  query { verifyAuditChain { intact records firstBrokenSequence recordId reason headHash verifiedAt } }
`;

export const ENTITY_HISTORY = `
  query History($representations: [_Any!]!, $first: Int, $after: String) {
    _entities(representations: $representations) {
      ... on Patient {
        id
        accessHistory(first: $first, after: $after) {
          totalCount
          pageInfo { hasNextPage endCursor }
          edges { node { id patientId action } }
        }
      }
      ... on User {
        id
        activity(first: $first, after: $after) {
          totalCount
          pageInfo { hasNextPage endCursor }
          edges { node { id actor { id } action } }
        }
      }
    }
  }
`;

const INCIDENT_FIELDS = `
  id summary description occurredAt patientId severity status reportedAt resolvedAt resolution
  reportedBy { id } resolvedBy { id }
`;

export const REPORT_INCIDENT = `
  mutation Report($input: ReportSecurityIncidentInput!) {
    reportSecurityIncident(input: $input) { ${INCIDENT_FIELDS} }
  }
`;

export const RESOLVE_INCIDENT = `
  mutation Resolve($id: ID!, $resolution: String!) {
    resolveSecurityIncident(id: $id, resolution: $resolution) { ${INCIDENT_FIELDS} }
  }
`;

export const SECURITY_INCIDENTS = `
  query Incidents($status: SecurityIncidentStatus, $first: Int, $after: String) {
    securityIncidents(status: $status, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage endCursor }
      edges { cursor node { ${INCIDENT_FIELDS} } }
    }
  }
`;

/** Lists the `field` of each invalid input a BAD_USER_INPUT error reports. */
export function invalidFields(body: { errors?: { extensions?: Record<string, unknown> }[] }): string[] {
  const fields = body.errors?.[0]?.extensions?.fields;
  if (!Array.isArray(fields)) return [];
  return fields.map((entry: { field: string }) => entry.field);
}
