import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

/**
 * The one SQL surface the service uses. Both backends speak PostgreSQL (server via `pg`, embedded via
 * PGlite), so the schema, migrations and queries are literally the same text for both.
 */
export interface SqlClient {
  readonly backend: 'postgres' | 'embedded';
  query<TRow extends Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<TRow[]>;
  /** Runs `work` in one transaction; it commits when `work` resolves and rolls back when it throws. */
  transaction<TResult>(work: (tx: SqlQueryable) => Promise<TResult>): Promise<TResult>;
  /** Runs a script of several statements without parameters (the job engine's migrations and locks). */
  exec(script: string): Promise<Record<string, unknown>[]>;
  /**
   * Runs `work` while holding a lock named `key` that no other holder of this database (in any process)
   * holds at the same time. On PostgreSQL it is a session advisory lock, so a killed process drops it
   * with its connection; embedded, the database has one process, so an in-process queue suffices.
   */
  withLock<TResult>(key: string, work: () => Promise<TResult>): Promise<TResult>;
  close(): Promise<void>;
}

export type SqlQueryable = Pick<SqlClient, 'query'>;

export type SqlClientOptions =
  | {
      readonly databaseUrl: string;
      readonly schema?: string;
      /** Connections the pool opens at most. @default 5 */
      readonly maxConnections?: number;
    }
  /** `dataDir` omitted = in memory (tests, throwaway demos). */
  | { readonly dataDir?: string };

export async function openSqlClient(options: SqlClientOptions): Promise<SqlClient> {
  if ('databaseUrl' in options)
    return openPostgres(options.databaseUrl, options.schema, options.maxConnections ?? 5);
  return openEmbedded(options.dataDir);
}

async function openPostgres(
  databaseUrl: string,
  schema: string | undefined,
  maxConnections: number,
): Promise<SqlClient> {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: maxConnections,
    ...(schema === undefined ? {} : { options: `-c search_path=${quoteIdentifier(schema)}` }),
  });
  // Surface a bad URL or a down server at start, with the host named but never the password.
  try {
    const probe = await pool.connect();
    probe.release();
  } catch (error) {
    await pool.end();
    throw new Error(`cannot connect to PostgreSQL at ${describeDatabaseUrl(databaseUrl)}`, { cause: error });
  }
  if (schema !== undefined) await pool.query(`create schema if not exists ${quoteIdentifier(schema)}`);

  const query = async <TRow extends Record<string, unknown>>(text: string, params?: readonly unknown[]) =>
    (await pool.query<TRow>(text, params as unknown[] | undefined)).rows;
  const localLocks = new Map<string, Promise<void>>();

  return {
    backend: 'postgres',
    query,
    async transaction(work) {
      const connection = await pool.connect();
      try {
        await connection.query('begin');
        const result = await work({
          query: async <TRow extends Record<string, unknown>>(text: string, params?: readonly unknown[]) =>
            (await connection.query<TRow>(text, params as unknown[] | undefined)).rows,
        });
        await connection.query('commit');
        return result;
      } catch (error) {
        await connection.query('rollback');
        throw error;
      } finally {
        connection.release();
      }
    },
    async exec(script) {
      const results = (await pool.query(script)) as unknown as pg.QueryResult | pg.QueryResult[];
      const last = Array.isArray(results) ? results.at(-1) : results;
      return (last?.rows ?? []) as Record<string, unknown>[];
    },
    // Callers of one key in this process queue here first, so only one of them holds a connection while
    // it waits for the advisory lock: waiters must not take the pool the lock holder's work needs.
    withLock: (key, work) => inOrderPerKey(localLocks, key, () => advisoryLocked(key, work)),
    close: () => pool.end(),
  };

  async function advisoryLocked<TResult>(key: string, work: () => Promise<TResult>): Promise<TResult> {
    // A connection of its own: the lock lives as long as this session, whatever work does meanwhile.
    const connection = await pool.connect();
    try {
      await connection.query('select pg_advisory_lock(hashtextextended($1, 0))', [key]);
      try {
        return await work();
      } finally {
        await connection.query('select pg_advisory_unlock(hashtextextended($1, 0))', [key]);
      }
    } finally {
      connection.release();
    }
  }
}

async function openEmbedded(dataDir: string | undefined): Promise<SqlClient> {
  const database = dataDir === undefined ? new PGlite() : new PGlite(dataDir);
  await database.waitReady;
  // PGlite runs one statement at a time; serialising here keeps transactions from interleaving.
  let queue: Promise<unknown> = Promise.resolve();
  const serialised = <T>(task: () => Promise<T>): Promise<T> => {
    const next = queue.then(task, task);
    queue = next.catch(() => undefined);
    return next;
  };
  const locks = new Map<string, Promise<void>>();
  const run = async <TRow extends Record<string, unknown>>(text: string, params?: readonly unknown[]) =>
    (await database.query<TRow>(text, params as unknown[] | undefined)).rows;

  return {
    backend: 'embedded',
    query: (text, params) => serialised(() => run(text, params)),
    transaction: (work) =>
      serialised(() =>
        database.transaction((tx) =>
          work({
            query: async <TRow extends Record<string, unknown>>(text: string, params?: readonly unknown[]) =>
              (await tx.query<TRow>(text, params as unknown[] | undefined)).rows,
          }),
        ),
      ),
    exec: (script) =>
      serialised(async () => ((await database.exec(script)).at(-1)?.rows ?? []) as Record<string, unknown>[]),
    withLock: (key, work) => inOrderPerKey(locks, key, work),
    close: () => serialised(() => database.close()),
  };
}

/** `postgres://user:secret@host:5432/db` → `host:5432/db`: enough to find the server, nothing secret. */
export function describeDatabaseUrl(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    return `${url.hostname}${url.port ? `:${url.port}` : ''}${url.pathname}`;
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

function quoteIdentifier(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`invalid schema name "${name}": use [a-z0-9_]`);
  return `"${name}"`;
}

/** Runs `work` after every earlier call of the same key in this process has settled. */
function inOrderPerKey<TResult>(
  locks: Map<string, Promise<void>>,
  key: string,
  work: () => Promise<TResult>,
): Promise<TResult> {
  const before = locks.get(key) ?? Promise.resolve();
  const run = before.then(work, work);
  const settled = run.then(
    () => undefined,
    () => undefined,
  );
  locks.set(key, settled);
  void settled.then(() => {
    if (locks.get(key) === settled) locks.delete(key);
  });
  return run;
}
