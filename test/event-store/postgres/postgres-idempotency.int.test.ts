// Idempotency keys on PostgreSQL: honoured for a retention (a day by default), kept on the
// last event of the append they keyed, with the name of the hash that made the fingerprint.

import { expect, it } from 'vitest';
import { ConcurrencyError } from '../../../src/event-store/errors.ts';
import { FINGERPRINT_ALGORITHM } from '../../../src/event-store/rules.ts';
import { describePostgres, startPostgresStore, withClient } from '../../support/postgres.ts';
import { until } from '../../support/until.ts';
import { account, newEvent, newTenant } from '../contract.ts';

describePostgres('PostgreSQL idempotency keys', (databaseUrl) => {
  it('answers a resend with the first answer during the retention, and forgets the key after it', async () => {
    const under = await startPostgresStore(databaseUrl, { idempotencyRetentionMs: 3_000 });
    try {
      const tenantId = newTenant();
      const first = { tenantId, stream: account('a-1'), expectedVersion: 0, idempotencyKey: 'cmd-1', events: [newEvent(), newEvent()] };
      const answer = await under.store.append(first);
      expect(await under.store.append(first)).toEqual(answer);
      // Once the key is forgotten, the resend stands on its expected version, stale by now.
      await until(async () => (await under.store.append(first).catch((error: unknown) => error)) instanceof ConcurrencyError, 'the key to be forgotten');
      // And the key is free for another batch.
      const reused = await under.store.append({ ...first, expectedVersion: 2, events: [newEvent()] });
      expect(reused.lastVersion).toBe(3);
    } finally {
      await under.stop();
    }
  });

  it('keeps the key on the last event of its append, with the fingerprint and its algorithm', async () => {
    const under = await startPostgresStore(databaseUrl);
    try {
      const tenantId = newTenant();
      await under.store.append({ tenantId, stream: account('a-1'), expectedVersion: 0, idempotencyKey: 'cmd-1', events: [newEvent(), newEvent()] });
      await under.store.append({ tenantId, stream: account('a-1'), expectedVersion: 2, events: [newEvent()] });
      const rows = await withClient(databaseUrl, (client) =>
        client.query<{ version: string; idempotency_key: string | null; has_fingerprint: boolean; fingerprint_algorithm: string | null }>(
          `SELECT version, idempotency_key, fingerprint IS NOT NULL AS has_fingerprint, fingerprint_algorithm
             FROM "${under.schema}".events WHERE tenant_id = $1 ORDER BY version`,
          [tenantId],
        ));
      expect(rows.rows).toEqual([
        { version: '1', idempotency_key: null, has_fingerprint: false, fingerprint_algorithm: null },
        { version: '2', idempotency_key: 'cmd-1', has_fingerprint: true, fingerprint_algorithm: FINGERPRINT_ALGORITHM },
        { version: '3', idempotency_key: null, has_fingerprint: false, fingerprint_algorithm: null },
      ]);
    } finally {
      await under.stop();
    }
  });
});
