import type { SqlClient } from './sql-client.ts';

export interface Migration {
  readonly id: number;
  readonly name: string;
  readonly sql: string;
}

/** Append-only: a released migration is never edited, a change is a new entry. */
export const MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: 'initial schema',
    sql: `
      create table owners (
        id text primary key,
        display_name text not null,
        created_at timestamptz not null default now()
      );
      create table grants (
        id text primary key,
        owner_id text not null references owners(id) on delete cascade,
        -- Tokens are empty while the owner is still in Connect (status pending).
        access_token text,
        refresh_token text,
        access_expires_at timestamptz,
        refresh_expires_at timestamptz,
        scopes text[] not null,
        status text not null check (status in ('pending', 'active', 'revoked', 'expired')),
        status_reason text,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );
      create table vehicles (
        id text primary key,
        grant_id text not null references grants(id) on delete cascade,
        make text not null,
        model text not null,
        year integer not null,
        battery_capacity_kwh double precision,
        created_at timestamptz not null default now()
      );
      -- The last state read from each car, so dashboards and planning need not wake it again.
      create table vehicle_states (
        vehicle_id text primary key references vehicles(id) on delete cascade,
        body jsonb not null,
        read_at timestamptz not null
      );
      create table preferences (
        vehicle_id text primary key references vehicles(id) on delete cascade,
        body jsonb not null,
        updated_at timestamptz not null default now()
      );
      create table prices (
        source text not null,
        slot_start timestamptz not null,
        slot_end timestamptz not null,
        price_per_kwh double precision not null,
        fetched_at timestamptz not null default now(),
        primary key (source, slot_start)
      );
      create table settings (
        key text primary key,
        body jsonb not null,
        updated_at timestamptz not null default now()
      );
      create table grid_events (
        id text primary key,
        kind text not null,
        starts_at timestamptz not null,
        ends_at timestamptz not null,
        body jsonb not null,
        created_at timestamptz not null default now()
      );
      create table plans (
        id text primary key,
        reason text not null,
        created_at timestamptz not null default now(),
        horizon_start timestamptz not null,
        horizon_end timestamptz not null,
        body jsonb not null,
        superseded_at timestamptz
      );
      create table commands (
        id text primary key,
        plan_id text references plans(id),
        vehicle_id text not null references vehicles(id) on delete cascade,
        action text not null check (action in ('start_charge', 'stop_charge', 'set_charge_limit')),
        value double precision,
        due_at timestamptz not null,
        status text not null check (status in ('pending', 'sending', 'confirmed', 'failed', 'cancelled')),
        attempts integer not null default 0,
        last_error text,
        next_attempt_at timestamptz,
        sent_at timestamptz,
        confirmed_at timestamptz,
        created_at timestamptz not null default now(),
        -- One command per vehicle, action and due time: a re-plan or restart can never queue a twin.
        unique (vehicle_id, action, due_at)
      );
      create index commands_due on commands (status, due_at);
      create index prices_window on prices (slot_start);
    `,
  },
];

/**
 * Applies pending migrations in order, each in its own transaction. On PostgreSQL an advisory lock
 * keeps two service instances starting at once from racing each other.
 */
export async function migrate(client: SqlClient): Promise<number[]> {
  await client.query(
    `create table if not exists schema_migrations (
       id integer primary key, name text not null, applied_at timestamptz not null default now())`,
  );
  const applied: number[] = [];
  await client.transaction(async (tx) => {
    if (client.backend === 'postgres') await tx.query('select pg_advisory_xact_lock(7411)');
    const done = new Set(
      (await tx.query<{ id: number }>('select id from schema_migrations')).map((row) => row.id),
    );
    for (const migration of MIGRATIONS) {
      if (done.has(migration.id)) continue;
      for (const statement of splitStatements(migration.sql)) await tx.query(statement);
      await tx.query('insert into schema_migrations (id, name) values ($1, $2)', [
        migration.id,
        migration.name,
      ]);
      applied.push(migration.id);
    }
  });
  return applied;
}

// Parameterised queries take one statement at a time; our migrations contain no semicolons in literals.
function splitStatements(sql: string): string[] {
  return sql
    .split(';')
    .map((statement) => statement.replace(/--[^\n]*/g, '').trim())
    .filter((statement) => statement.length > 0);
}
