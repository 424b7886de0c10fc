import { randomBytes } from 'node:crypto';
import { migrate } from './migrations.ts';
import { createTokenCipher, type TokenCipher } from './token-cipher.ts';
import { openSqlClient, type SqlClient } from './sql-client.ts';

/** PostgreSQL on this machine and in CI; override with TEST_DATABASE_URL. */
export const TEST_DATABASE_URL: string =
  process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A token cipher with a random key, for tests. */
export function testTokenCipher(id = 'test'): TokenCipher {
  return createTokenCipher([{ id, key: randomBytes(32) }]);
}

let embeddedClient: Promise<SqlClient> | undefined;

async function truncateAll(client: SqlClient): Promise<void> {
  const tables = await client.query<{ tablename: string }>(
    `select tablename from pg_tables where schemaname = current_schema() and tablename <> 'schema_migrations'`,
  );
  if (tables.length > 0)
    await client.query(`truncate ${tables.map((t) => `"${t.tablename}"`).join(', ')} cascade`);
}

export interface TestBackend {
  readonly name: 'embedded' | 'postgres';
  open(): Promise<{ client: SqlClient; dispose: () => Promise<void> }>;
}

/** Both storage backends, so every store test runs against PGlite and the real PostgreSQL server. */
export const TEST_BACKENDS: readonly TestBackend[] = [
  {
    name: 'embedded',
    async open() {
      // Starting PGlite costs seconds, so each test file keeps one migrated instance and empties it per test.
      embeddedClient ??= openSqlClient({}).then(async (client) => {
        await migrate(client);
        return client;
      });
      const client = await embeddedClient;
      await truncateAll(client);
      return { client, dispose: () => Promise.resolve() };
    },
  },
  {
    name: 'postgres',
    async open() {
      // A throwaway schema per test keeps parallel runs and reruns from seeing each other's rows.
      const schema = `voltkit_test_${randomBytes(6).toString('hex')}`;
      const client = await openSqlClient({ databaseUrl: TEST_DATABASE_URL, schema });
      await migrate(client);
      return {
        client,
        async dispose() {
          await client.query(`drop schema ${schema} cascade`);
          await client.close();
        },
      };
    },
  },
];

/** A car of owner `o1` under grant `g1` (both made on first use), for store tests that need one. */
export async function seedVehicle(
  client: SqlClient,
  vehicleId: string,
  { make = 'DS', model = 'DS 3 Crossback E-Tense', year = 2021 } = {},
): Promise<void> {
  await client.query(`insert into owners (id, display_name) values ('o1', 'Owner') on conflict do nothing`);
  await client.query(
    `insert into grants (id, owner_id, access_token, refresh_token, access_expires_at, refresh_expires_at, scopes, status)
     values ('g1', 'o1', 'a', 'r', now(), now(), '{read_battery}', 'active') on conflict do nothing`,
  );
  await client.query(`insert into vehicles (id, grant_id, make, model, year) values ($1, 'g1', $2, $3, $4)`, [
    vehicleId,
    make,
    model,
    year,
  ]);
}
