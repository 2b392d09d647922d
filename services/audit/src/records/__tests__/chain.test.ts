import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { newId, type MikroORM } from '@hms/service-kit';
import type { ServiceTestDatabase } from '@hms/test-kit';
import { appendAuditRecords } from '../append.js';
import { chainHash, GENESIS_HASH } from '../canonical.js';
import { STORED_COLUMNS, storedRecordOf, type StoredRow } from '../stored.js';
import { InvalidAuditRecordError } from '../input.js';
import { verifyChain } from '../verify.js';
import { migrateTestDatabase, openAppOrm } from '../../testing/database.js';
import { auditRecord, auditRecords } from '../../testing/records.js';

/** Runs `statements` as the database superuser with the append-only trigger off, as an intruder could. */
async function tamper(database: ServiceTestDatabase, statements: [string, unknown[]][]): Promise<void> {
  const admin = new pg.Client({ connectionString: database.adminUrl });
  await admin.connect();
  try {
    await admin.query('begin');
    await admin.query('alter table audit.audit_records disable trigger audit_records_append_only');
    for (const [sql, params] of statements) await admin.query(sql, params);
    await admin.query('alter table audit.audit_records enable trigger audit_records_append_only');
    await admin.query('commit');
  } finally {
    await admin.end();
  }
}

async function idAt(database: ServiceTestDatabase, tenantId: string, seq: number): Promise<string> {
  const admin = new pg.Client({ connectionString: database.adminUrl });
  await admin.connect();
  try {
    const result = await admin.query(
      'select id::text from audit.audit_records where tenant_id = $1 and seq = $2',
      [tenantId, seq],
    );
    return result.rows[0].id;
  } finally {
    await admin.end();
  }
}

describe('audit chain', () => {
  let database: ServiceTestDatabase;
  let orm: MikroORM;

  before(async () => {
    database = await migrateTestDatabase();
    orm = await openAppOrm(database);
  });

  after(async () => {
    await orm?.close();
  });

  test('empty chain intact', async () => {
    const result = await verifyChain(orm, newId());

    assert.deepEqual(result, { intact: true, records: 0n, headHash: GENESIS_HASH });
  });

  test('appended chain intact', async () => {
    const tenantId = newId();

    const first = await appendAuditRecords(orm, tenantId, auditRecords(tenantId, 5));
    const second = await appendAuditRecords(orm, tenantId, auditRecords(tenantId, 7));
    const result = await verifyChain(orm, tenantId, { batchSize: 3 });

    assert.deepEqual(
      first.appended.map((link) => link.seq),
      [1n, 2n, 3n, 4n, 5n],
    );
    assert.equal(second.appended[0]?.seq, 6n);
    assert.equal(second.headSeq, 12n);
    assert.equal(result.intact, true);
    assert.equal(result.records, 12n);
  });

  test('first record links to zero hash', async () => {
    const tenantId = newId();
    await appendAuditRecords(orm, tenantId, auditRecords(tenantId, 2));

    const admin = new pg.Client({ connectionString: database.adminUrl });
    await admin.connect();
    const { rows } = await admin.query(
      'select seq, prev_hash, hash from audit.audit_records where tenant_id = $1 order by seq',
      [tenantId],
    );
    await admin.end();

    assert.deepEqual(rows[0].prev_hash, GENESIS_HASH);
    assert.deepEqual(rows[1].prev_hash, rows[0].hash);
  });

  test('tampered row named', async () => {
    const tenantId = newId();
    await appendAuditRecords(orm, tenantId, auditRecords(tenantId, 10));
    const victim = await idAt(database, tenantId, 4);

    await tamper(database, [
      [
        "update audit.audit_records set action = 'patient.list' where tenant_id = $1 and id = $2",
        [tenantId, victim],
      ],
    ]);
    const result = await verifyChain(orm, tenantId, { batchSize: 3 });

    assert.equal(result.intact, false);
    assert.ok(!result.intact);
    assert.equal(result.firstBrokenSeq, 4n);
    assert.equal(result.recordId, victim);
    assert.equal(result.reason, 'HASH_MISMATCH');
  });

  test('sub-millisecond time change detected', async () => {
    const tenantId = newId();
    await appendAuditRecords(orm, tenantId, auditRecords(tenantId, 3));
    const victim = await idAt(database, tenantId, 2);

    await tamper(database, [
      [
        "update audit.audit_records set occurred_at = occurred_at + interval '1 microsecond' where tenant_id = $1 and id = $2",
        [tenantId, victim],
      ],
    ]);
    const result = await verifyChain(orm, tenantId);

    assert.ok(!result.intact);
    assert.equal(result.recordId, victim);
    assert.equal(result.reason, 'HASH_MISMATCH');
  });

  test('rehashed row breaks next link', async () => {
    const tenantId = newId();
    await appendAuditRecords(orm, tenantId, auditRecords(tenantId, 5));
    const next = await idAt(database, tenantId, 3);

    // An intruder with the canonical form at hand rewrites row 2 with a matching hash; row 2 then checks
    // out on its own, and only row 3, which still links to the old hash, shows the change.
    const admin = new pg.Client({ connectionString: database.adminUrl });
    await admin.connect();
    const { rows } = await admin.query<StoredRow>(
      `select ${STORED_COLUMNS} from audit.audit_records where tenant_id = $1 and seq = 2`,
      [tenantId],
    );
    await admin.end();
    const forged = { ...storedRecordOf(rows[0]!), actorId: 'someone-else' };
    await tamper(database, [
      [
        'update audit.audit_records set actor_id = $3, hash = $4 where tenant_id = $1 and id = $2',
        [tenantId, forged.id, forged.actorId, chainHash(forged)],
      ],
    ]);
    const result = await verifyChain(orm, tenantId);

    assert.ok(!result.intact);
    assert.equal(result.firstBrokenSeq, 3n);
    assert.equal(result.recordId, next);
    assert.equal(result.reason, 'PREV_HASH_MISMATCH');
  });

  test('deleted row named as missing', async () => {
    const tenantId = newId();
    await appendAuditRecords(orm, tenantId, auditRecords(tenantId, 6));
    const afterGap = await idAt(database, tenantId, 4);

    await tamper(database, [
      ['delete from audit.audit_records where tenant_id = $1 and seq = 3', [tenantId]],
    ]);
    const result = await verifyChain(orm, tenantId, { batchSize: 2 });

    assert.ok(!result.intact);
    assert.equal(result.firstBrokenSeq, 3n);
    assert.equal(result.recordId, afterGap);
    assert.equal(result.reason, 'MISSING_RECORD');
    assert.equal(result.records, 2n);
  });

  test('deleted last row named as missing', async () => {
    const tenantId = newId();
    await appendAuditRecords(orm, tenantId, auditRecords(tenantId, 4));

    await tamper(database, [
      ['delete from audit.audit_records where tenant_id = $1 and seq = 4', [tenantId]],
    ]);
    const result = await verifyChain(orm, tenantId);

    assert.ok(!result.intact);
    assert.equal(result.firstBrokenSeq, 4n);
    assert.equal(result.recordId, null);
    assert.equal(result.reason, 'MISSING_RECORD');
  });

  test('other tenant tampering not reported', async () => {
    const sound = newId();
    const tampered = newId();
    await appendAuditRecords(orm, sound, auditRecords(sound, 3));
    await appendAuditRecords(orm, tampered, auditRecords(tampered, 3));

    await tamper(database, [
      ["update audit.audit_records set reason = 'x' where tenant_id = $1", [tampered]],
    ]);

    assert.equal((await verifyChain(orm, sound)).intact, true);
    assert.equal((await verifyChain(orm, tampered)).intact, false);
  });

  test('redelivered record stored once', async () => {
    const tenantId = newId();
    const records = auditRecords(tenantId, 3);

    await appendAuditRecords(orm, tenantId, records);
    const again = await appendAuditRecords(orm, tenantId, [records[1]!, auditRecord(tenantId), records[1]!]);
    const result = await verifyChain(orm, tenantId);

    assert.deepEqual(again.skipped, [records[1]!.recordId, records[1]!.recordId]);
    assert.equal(again.appended.length, 1);
    assert.equal(again.appended[0]?.seq, 4n);
    assert.equal(result.intact, true);
    assert.equal(result.records, 4n);
  });

  test('same id in other tenant stored', async () => {
    const tenantA = newId();
    const tenantB = newId();
    const recordId = newId();

    await appendAuditRecords(orm, tenantA, [auditRecord(tenantA, { recordId })]);
    const result = await appendAuditRecords(orm, tenantB, [auditRecord(tenantB, { recordId })]);

    assert.equal(result.appended.length, 1);
  });

  test('invalid record rejects batch', async () => {
    const tenantId = newId();
    const records = [auditRecord(tenantId), auditRecord(tenantId, { patientId: 'MRN-000001', action: '' })];

    await assert.rejects(appendAuditRecords(orm, tenantId, records), (error: unknown) => {
      assert.ok(error instanceof InvalidAuditRecordError);
      assert.deepEqual(error.problems, ['action is missing', 'patientId is not a UUID']);
      return true;
    });
    assert.equal((await verifyChain(orm, tenantId)).records, 0n);
  });

  test('record of other tenant rejected', async () => {
    const tenantId = newId();

    await assert.rejects(
      appendAuditRecords(orm, tenantId, [auditRecord(newId())]),
      /tenantId differs from the tenant the record is appended to/,
    );
  });

  test('concurrent appends keep chain gapless', async () => {
    const tenantId = newId();
    const pooled = await openAppOrm(database, 8);
    try {
      await Promise.all(
        Array.from({ length: 8 }, () => appendAuditRecords(pooled, tenantId, auditRecords(tenantId, 25))),
      );
      const result = await verifyChain(pooled, tenantId, { batchSize: 50 });

      assert.equal(result.intact, true);
      assert.equal(result.records, 200n);
    } finally {
      await pooled.close();
    }
  });

  test('concurrent first appends share one head', async () => {
    const tenantId = newId();
    const pooled = await openAppOrm(database, 4);
    try {
      const results = await Promise.all(
        Array.from({ length: 4 }, () => appendAuditRecords(pooled, tenantId, [auditRecord(tenantId)])),
      );

      assert.deepEqual(results.map((result) => result.headSeq).sort(), [1n, 2n, 3n, 4n]);
      assert.equal((await verifyChain(pooled, tenantId)).intact, true);
    } finally {
      await pooled.close();
    }
  });
});
