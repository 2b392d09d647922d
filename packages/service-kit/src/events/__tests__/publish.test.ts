import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  Actor_Kind,
  AUDIT_TOPIC,
  AuditRecordSchema,
  decodeEnvelope,
  Operation,
  Outcome,
  PatientUpdatedSchema,
  unpackPayloadAs,
} from '@hms/proto-schemas';
import { Principal } from '../../auth/claims.js';
import { inTenantTransaction, type MikroORM } from '../../db/orm.js';
import type { SubgraphContext } from '../../graphql/request-context.js';
import { isUuidV7, newId } from '../../ids.js';
import { createPublisher } from '../publish.js';
import { adminQuery, openAppOrm, prepareProbeDatabase, PROBE_SCHEMA, type ProbeDatabase } from './support.js';

interface OutboxRow {
  event_id: string;
  tenant_id: string;
  type: string;
  topic: string;
  message_key: string;
  headers: Record<string, string>;
  payload: Buffer;
}

const publisher = createPublisher('probe');

function contextOf(tenantId: string): SubgraphContext {
  return {
    principal: new Principal({
      iss: 'test',
      aud: 'hms',
      sub: newId(),
      tid: tenantId,
      sid: newId(),
      roles: ['clerk'],
      perms: ['patient:write'],
      typ: 'user',
      exp: 0,
      iat: 0,
      jti: newId(),
    }),
    requestId: 'request-1',
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    clientIp: '203.0.113.9',
    userAgent: 'probe-agent/1.0',
    memo: new Map(),
  };
}

describe('publishEvent and recordAudit', { timeout: 60_000 }, () => {
  let database: ProbeDatabase;
  let app: MikroORM;

  before(async () => {
    database = await prepareProbeDatabase();
    app = await openAppOrm(database);
  });

  after(async () => {
    await app?.close();
  });

  const rowOf = async (eventId: string) => {
    const rows = await adminQuery<OutboxRow>(
      database,
      `select * from ${PROBE_SCHEMA}.outbox where event_id = $1`,
      [eventId],
    );
    assert.equal(rows.length, 1);
    return rows[0]!;
  };

  test('domain event: decodable envelope, subject key', async () => {
    const tenantId = newId();
    const patientId = newId();
    const context = contextOf(tenantId);
    const eventId = await inTenantTransaction(app, tenantId, (em) =>
      publisher.publishEvent(em, context, {
        topic: 'hms.probe.events.v1',
        type: 'probe.patient.updated',
        tenantId,
        subject: { type: 'Patient', id: patientId },
        payloadSchema: PatientUpdatedSchema,
        payload: { patientId, changedFields: ['address'] },
      }),
    );

    assert.ok(isUuidV7(eventId));
    const row = await rowOf(eventId);
    assert.equal(row.type, 'probe.patient.updated');
    assert.equal(row.message_key, `${tenantId}:${patientId}`);
    const envelope = decodeEnvelope(row.payload);
    assert.equal(envelope.eventId, eventId);
    assert.equal(envelope.tenantId, tenantId);
    assert.equal(envelope.producer, 'probe');
    assert.equal(envelope.subject?.type, 'Patient');
    assert.equal(envelope.subject?.id, patientId);
    assert.equal(envelope.actor?.kind, Actor_Kind.USER);
    assert.equal(envelope.actor?.id, context.principal?.subject);
    assert.equal(envelope.actor?.sessionId, context.principal?.sessionId);
    assert.deepEqual(envelope.actor?.roles, ['clerk']);
    assert.equal(envelope.actor?.ip, '203.0.113.9');
    assert.equal(envelope.actor?.userAgent, 'probe-agent/1.0');
    assert.equal(envelope.trace?.traceparent.split('-')[1], context.traceId);
    // The message header and the envelope name the same trace.
    assert.equal(row.headers.traceparent, envelope.trace?.traceparent);
    const payload = unpackPayloadAs(envelope, PatientUpdatedSchema);
    assert.deepEqual(payload?.changedFields, ['address']);
  });

  test('audit record: audit topic, tenant key', async () => {
    const tenantId = newId();
    const patientId = newId();
    const context = contextOf(tenantId);
    const recordId = await inTenantTransaction(app, tenantId, (em) =>
      publisher.recordAudit(em, context, {
        tenantId,
        action: 'patient.read',
        operation: Operation.READ,
        entity: { type: 'Patient', id: patientId },
        patientId,
        outcome: Outcome.SUCCESS,
      }),
    );

    assert.ok(recordId);
    const row = await rowOf(recordId);
    assert.equal(row.topic, AUDIT_TOPIC);
    assert.equal(row.type, 'audit.record');
    assert.equal(row.message_key, tenantId);
    const envelope = decodeEnvelope(row.payload);
    const record = unpackPayloadAs(envelope, AuditRecordSchema);
    assert.ok(record);
    assert.equal(record.recordId, recordId);
    assert.equal(record.tenantId, tenantId);
    assert.equal(record.operation, Operation.READ);
    assert.equal(record.outcome, Outcome.SUCCESS);
    assert.equal(record.patientId, patientId);
    assert.equal(record.traceId, context.traceId);
    assert.equal(record.requestId, 'request-1');
    assert.equal(record.producer, 'probe');
    assert.equal(record.actor?.id, context.principal?.subject);
  });

  test('explicit actor, and no tenant skipped', async () => {
    const tenantId = newId();
    const userId = newId();
    const { eventId, skipped } = await inTenantTransaction(app, tenantId, async (em) => ({
      eventId: await publisher.recordAudit(
        em,
        { actor: { kind: 'user', id: userId }, requestId: 'r' },
        {
          tenantId,
          action: 'login.succeeded',
          operation: Operation.LOGIN,
          entity: { type: 'User', id: userId },
          outcome: Outcome.SUCCESS,
        },
      ),
      skipped: await publisher.recordAudit(
        em,
        { actor: { kind: 'platform', id: userId } },
        {
          tenantId: undefined,
          action: 'login.succeeded',
          operation: Operation.LOGIN,
          entity: { type: 'PlatformOperator', id: userId },
          outcome: Outcome.SUCCESS,
        },
      ),
    }));
    assert.equal(skipped, undefined);
    const envelope = decodeEnvelope((await rowOf(eventId!)).payload);
    assert.equal(envelope.actor?.kind, Actor_Kind.USER);
    assert.equal(envelope.actor?.id, userId);
  });

  test('audit batch: one insert, decodable rows', async () => {
    const tenantId = newId();
    const patientIds = [newId(), newId(), newId()];
    const recordIds = await inTenantTransaction(app, tenantId, (em) =>
      publisher.recordAudits(
        em,
        contextOf(tenantId),
        patientIds.map((patientId) => ({
          tenantId,
          action: 'patient.read',
          operation: Operation.READ,
          entity: { type: 'Patient', id: patientId },
          patientId,
          outcome: Outcome.SUCCESS,
        })),
      ),
    );

    assert.equal(recordIds.length, 3);
    for (const [index, recordId] of recordIds.entries()) {
      const row = await rowOf(recordId);
      assert.equal(row.message_key, tenantId);
      assert.equal(row.headers['hms-event-id'], recordId);
      const record = unpackPayloadAs(decodeEnvelope(row.payload), AuditRecordSchema);
      assert.equal(record?.patientId, patientIds[index]);
    }
  });

  test('rollback stores nothing', async () => {
    const tenantId = newId();
    let eventId: string | undefined;
    await assert.rejects(
      inTenantTransaction(app, tenantId, async (em) => {
        eventId = await publisher.recordAudit(em, contextOf(tenantId), {
          tenantId,
          action: 'patient.update',
          operation: Operation.UPDATE,
          entity: { type: 'Patient', id: newId() },
          outcome: Outcome.SUCCESS,
        });
        throw new Error('validation failed');
      }),
      /validation failed/,
    );
    const rows = await adminQuery(database, `select 1 from ${PROBE_SCHEMA}.outbox where event_id = $1`, [
      eventId,
    ]);
    assert.equal(rows.length, 0);
  });
});
