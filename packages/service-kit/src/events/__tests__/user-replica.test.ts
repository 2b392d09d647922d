import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkedReplicaTable, userReplicaTableSql } from '../user-replica.js';

test('replica table name checked', () => {
  assert.equal(checkedReplicaTable('clinical.users'), 'clinical.users');
  for (const invalid of [
    'users',
    'clinical.users.extra',
    'clinical.Users',
    'clinical.users; drop table x',
    '.users',
  ]) {
    assert.throws(() => checkedReplicaTable(invalid), /Invalid|schema/, invalid);
  }
});

test('replica table under row-level security', () => {
  const statements = userReplicaTableSql('scheduling.practitioners');

  assert.match(statements[0]!, /create table scheduling\.practitioners/);
  assert.match(statements[0]!, /constraint practitioners_pkey primary key \(tenant_id, id\)/);
  assert.ok(statements.includes('alter table scheduling.practitioners force row level security'));
  assert.ok(statements.some((statement) => statement.startsWith('create policy tenant_isolation')));
});
