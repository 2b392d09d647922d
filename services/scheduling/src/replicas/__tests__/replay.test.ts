import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  create,
  packPayload,
  TenantStatus,
  TenantStatusChangedSchema,
  UserCreatedSchema,
  UserDeactivatedSchema,
} from '@hms/proto-schemas';
import { envelopeOf, startHarness, type SchedulingHarness } from '../../testing/harness.js';
import { BOOK, bookableTenant, errorCode, invalidFields, MONDAY } from '../../testing/fixtures.js';

describe('replayed identity events', () => {
  let harness: SchedulingHarness;

  before(async () => {
    harness = await startHarness();
  });

  after(async () => {
    await harness?.stop();
  });

  test('older user event does not reactivate', async () => {
    const { tenantId, token, practitionerId, patientId } = await bookableTenant(harness);
    const hourAgo = new Date(Date.now() - 3_600_000);
    await harness.applyIdentity(
      envelopeOf(
        tenantId,
        'identity.user.deactivated',
        packPayload(UserDeactivatedSchema, create(UserDeactivatedSchema, { userId: practitionerId })),
      ),
    );

    // The creation event delivered again, for example from the dead-letter topic, is older.
    await harness.applyIdentity(
      envelopeOf(
        tenantId,
        'identity.user.created',
        packPayload(
          UserCreatedSchema,
          create(UserCreatedSchema, { userId: practitionerId, roles: ['doctor'] }),
        ),
        hourAgo,
      ),
    );
    const { body } = await harness.graphql(
      BOOK,
      { input: { practitionerId, patientId, startsAt: `${MONDAY}T10:00:00Z` } },
      token,
    );

    assert.deepEqual(invalidFields(body), ['input.practitionerId']);
  });

  test('offboarded tenant takes no bookings', async () => {
    const { tenantId, token, practitionerId, patientId } = await bookableTenant(harness);
    await harness.setTenantStatus(tenantId, TenantStatus.OFFBOARDED);

    // A reactivation that happened before the offboarding, delivered late, changes nothing.
    await harness.applyIdentity(
      envelopeOf(
        tenantId,
        'identity.tenant.status_changed',
        packPayload(
          TenantStatusChangedSchema,
          create(TenantStatusChangedSchema, {
            tenantId,
            oldStatus: TenantStatus.SUSPENDED,
            newStatus: TenantStatus.ACTIVE,
          }),
        ),
        new Date(Date.now() - 3_600_000),
      ),
    );
    const { body } = await harness.graphql(
      BOOK,
      { input: { practitionerId, patientId, startsAt: `${MONDAY}T10:00:00Z` } },
      token,
    );

    assert.equal(errorCode(body), 'TENANT_SUSPENDED');
    assert.equal(body.errors?.[0]?.extensions?.tenantStatus, 'offboarded');
  });
});
