import { AuditRecord } from './audit-record.js';
import { ChainHead } from './chain-head.js';
import { SecurityIncident } from './security-incident.js';

/** Every entity of the audit service, for the ORM and the migration job. */
export const entities = [AuditRecord, ChainHead, SecurityIncident];
