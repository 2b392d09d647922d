// Tests the shared wait for a service's copy of a just-created user or patient.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from './gateway-client.js';
import { isReplicaLag, retryWhileReplicaLags } from './replica-wait.js';

const rejection = (fields: { field: string; message: string }[]) =>
  new GatewayError('Invalid input.', 'BAD_USER_INPUT', fields);

test('isReplicaLag matches scheduling and clinical', () => {
  const scheduling = rejection([{ field: 'input.practitionerId', message: 'is not a user of this tenant' }]);
  const clinical = rejection([
    {
      field: 'input.attendingId',
      message: 'is not an active user of this tenant; give the id of an active user.',
    },
  ]);

  assert.equal(isReplicaLag(scheduling, ['input.patientId', 'input.practitionerId']), true);
  assert.equal(isReplicaLag(clinical, ['input.attendingId']), true);
  assert.equal(isReplicaLag(clinical, ['input.practitionerId']), false);
});

test('isReplicaLag rejects other input errors', () => {
  const mixed = rejection([
    { field: 'input.attendingId', message: 'is not an active user of this tenant' },
    { field: 'input.startedAt', message: 'must not be in the future' },
  ]);

  assert.equal(isReplicaLag(mixed, ['input.attendingId', 'input.startedAt']), false);
  assert.equal(isReplicaLag(new GatewayError('Conflict.', 'CONFLICT'), ['input.attendingId']), false);
  assert.equal(isReplicaLag(new Error('is not a user of this tenant'), ['input.attendingId']), false);
});

test('retryWhileReplicaLags retries until success', async () => {
  let attempts = 0;
  let waits = 0;
  const lag = rejection([{ field: 'input.attendingId', message: 'is not an active user of this tenant' }]);

  const result = await retryWhileReplicaLags(
    async () => {
      attempts++;
      if (attempts < 3) throw lag;
      return 'created';
    },
    (error) => isReplicaLag(error, ['input.attendingId']),
    { waitMs: 5_000, onFirstWait: () => waits++ },
  );

  assert.equal(result, 'created');
  assert.equal(attempts, 3);
  assert.equal(waits, 1);
});

test('retryWhileReplicaLags gives up after waitMs', async () => {
  const lag = rejection([{ field: 'input.attendingId', message: 'is not an active user of this tenant' }]);
  let attempts = 0;

  await assert.rejects(
    retryWhileReplicaLags(
      async () => {
        attempts++;
        throw lag;
      },
      (error) => isReplicaLag(error, ['input.attendingId']),
      { waitMs: 150 },
    ),
    (error) => error === lag,
  );
  assert.equal(attempts, 2);
});

test('retryWhileReplicaLags throws other errors at once', async () => {
  const conflict = new GatewayError('Conflict.', 'CONFLICT');
  let attempts = 0;

  await assert.rejects(
    retryWhileReplicaLags(
      async () => {
        attempts++;
        throw conflict;
      },
      () => false,
      { waitMs: 5_000 },
    ),
    (error) => error === conflict,
  );
  assert.equal(attempts, 1);
});
