import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, MIGRATIONS } from './migrations.ts';
import { loadPrices } from './prices.ts';
import { openSqlClient, type SqlClient } from './sql-client.ts';
import { TEST_DATABASE_URL } from './test-backends.ts';

const at = (h: number, m = 0) => new Date(Date.UTC(2026, 10, 21, h, m));

/** A database as the first release left it: migration 1 only. */
async function firstRelease(client: SqlClient): Promise<void> {
  await client.query(
    'create table schema_migrations (id integer primary key, name text not null, applied_at timestamptz not null default now())',
  );
  for (const statement of MIGRATIONS[0]!.sql!.split(';').map((part) => part.replace(/--[^\n]*/g, '').trim()))
    if (statement) await client.query(statement);
  await client.query(`insert into schema_migrations (id, name) values (1, 'initial schema')`);
}

const BACKENDS = [
  { name: 'embedded', open: () => openSqlClient({}), drop: async () => {} },
  {
    name: 'postgres',
    schema: `voltkit_test_${randomBytes(6).toString('hex')}`,
    open() {
      return openSqlClient({ databaseUrl: TEST_DATABASE_URL, schema: this.schema });
    },
    async drop(client: SqlClient) {
      await client.query(`drop schema ${this.schema} cascade`);
    },
  },
];

describe.each(BACKENDS)('migrations on $name storage', (backend) => {
  let client: SqlClient | undefined;
  afterEach(async () => {
    if (client) {
      await backend.drop(client);
      await client.close();
    }
  });

  it('an existing database with blended prices keeps the latest series only, then refuses overlaps', async () => {
    client = await backend.open();
    await firstRelease(client);
    // What the old upsert left: 5-minute slots imported over hourly file prices, re-fetched later.
    await client.query(
      `insert into prices (source, slot_start, slot_end, price_per_kwh, fetched_at) values
       ('file', $1, $2, 0.1, $5), ('file', $2, $3, 0.1, $5), ('file', $4, $6, 0.3, $7)`,
      [
        at(1, 5),
        at(1, 10),
        at(1, 15),
        at(1),
        new Date('2026-11-20T10:00:00Z'),
        at(2),
        new Date('2026-11-20T12:00:00Z'),
      ],
    );
    expect(await migrate(client)).toEqual(MIGRATIONS.slice(1).map((migration) => migration.id));
    const left = await loadPrices(client, 'file', at(0), at(3));
    expect(left.map((slot) => [slot.start.toISOString(), slot.end.toISOString(), slot.pricePerKwh])).toEqual([
      [at(1).toISOString(), at(2).toISOString(), 0.3],
    ]);
    await expect(
      client.query(
        `insert into prices (source, slot_start, slot_end, price_per_kwh) values ('file', $1, $2, 1)`,
        [at(1, 30), at(1, 45)],
      ),
    ).rejects.toThrow(/overlaps a stored slot/);
  });
});
