import type { SqlClient } from './sql-client.ts';

export interface Migration {
  readonly id: number;
  readonly name: string;
  /** Statements separated by semicolons (none inside literals). */
  readonly sql?: string;
  /** Statements taken as they are: for bodies that contain semicolons (PL/pgSQL functions). */
  readonly statements?: readonly string[];
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
  {
    id: 2,
    name: 'identity: operator tokens, sessions, one-time login codes, Connect states; owners are Smartcar users',
    sql: `
      alter table owners add column smartcar_user_id text unique;
      -- A grant exists from the code exchange on, its owner is known once the vehicle API says who signed in.
      alter table grants alter column owner_id drop not null;
      create table api_tokens (
        id text primary key,
        name text not null,
        role text not null check (role in ('admin', 'read')),
        -- SHA-256 of the token (shown once, never stored).
        token_hash text not null unique,
        created_at timestamptz not null default now(),
        last_used_at timestamptz,
        revoked_at timestamptz
      );
      create table sessions (
        id text primary key,
        -- SHA-256 of the cookie value.
        secret_hash text not null unique,
        owner_id text references owners(id) on delete cascade,
        api_token_id text references api_tokens(id) on delete cascade,
        created_at timestamptz not null default now(),
        expires_at timestamptz not null,
        check ((owner_id is null) <> (api_token_id is null))
      );
      create table login_codes (
        code_hash text primary key,
        owner_id text references owners(id) on delete cascade,
        api_token_id text references api_tokens(id) on delete cascade,
        created_at timestamptz not null default now(),
        expires_at timestamptz not null,
        used_at timestamptz,
        check ((owner_id is null) <> (api_token_id is null))
      );
      -- OAuth state of a Connect flow: single use, short-lived, bound to the browser that started it.
      create table connect_states (
        state_hash text primary key,
        browser_binding_hash text not null,
        purpose text not null check (purpose in ('enroll', 'reconnect')),
        -- reconnect: the grant whose owner must be the one who signs in.
        grant_id text references grants(id) on delete cascade,
        owner_name text,
        make_bypass text,
        created_at timestamptz not null default now(),
        expires_at timestamptz not null,
        used_at timestamptz
      );
      create index connect_states_expiry on connect_states (expires_at);
      create index sessions_expiry on sessions (expires_at);
    `,
  },
  {
    id: 3,
    name: 'prices: one effective series per source, no overlapping slots',
    statements: [
      // Earlier imports blended slots of different lengths: the most recently fetched slot wins.
      `delete from prices older using prices newer
       where older.source = newer.source and older.slot_start < newer.slot_end and older.slot_end > newer.slot_start
         and (older.fetched_at, older.slot_start) < (newer.fetched_at, newer.slot_start)`,
      `create function prices_reject_overlap() returns trigger language plpgsql as $$
       begin
         -- Serialises writers of one source, so two transactions cannot each add half of an overlap.
         perform pg_advisory_xact_lock(hashtext('prices:' || new.source));
         if exists (
           select 1 from prices
           where source = new.source and slot_start < new.slot_end and slot_end > new.slot_start
             and slot_start <> new.slot_start
         ) then
           raise exception 'price slot % – % of % overlaps a stored slot', new.slot_start, new.slot_end, new.source
             using errcode = '23P01';
         end if;
         return new;
       end
       $$`,
      `create trigger prices_no_overlap before insert or update on prices
       for each row execute function prices_reject_overlap()`,
    ],
  },
  {
    id: 4,
    name: 'commands: which service instance executed each command',
    sql: `
      alter table commands add column instance_id text
    `,
  },
  {
    id: 5,
    name: 'fleet scale: grid tree, vehicles on grid nodes, per-car planned power, an index for every query',
    sql: `
      create table grid_nodes (
        id text primary key,
        parent_id text references grid_nodes(id) on delete restrict,
        kind text not null check (kind in ('substation', 'feeder', 'transformer', 'connection')),
        name text not null,
        limit_kw double precision not null check (limit_kw > 0),
        base_load_kwh_per_year double precision not null default 0 check (base_load_kwh_per_year >= 0),
        limit_mode text not null default 'average' check (limit_mode in ('average', 'hard')),
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        check (parent_id is null or parent_id <> id)
      );
      create index grid_nodes_children on grid_nodes (parent_id, id);
      create index grid_nodes_by_kind on grid_nodes (kind, id);
      alter table vehicles add column grid_node_id text references grid_nodes(id) on delete restrict;
      create index vehicles_on_node on vehicles (grid_node_id, id);
      create index vehicles_by_grant on vehicles (grant_id, id);
      create index grants_by_owner on grants (owner_id, id);
      -- Each car's share of the current plan, so a node's planned load sums rows instead of parsing the plan.
      create table vehicle_plans (
        vehicle_id text primary key references vehicles(id) on delete cascade,
        plan_id text not null,
        first_slot_start timestamptz not null,
        slot_minutes integer not null check (slot_minutes > 0),
        power_kw double precision[] not null
      );
      -- Keyset pages of the command log: the fleet's in due order, one car's, one status's.
      create index commands_in_due_order on commands (due_at, vehicle_id, action);
      create index commands_of_vehicle on commands (vehicle_id, due_at, action);
      drop index if exists commands_due;
      create index commands_by_status on commands (status, due_at, vehicle_id, action);
      create index commands_confirmed on commands (confirmed_at) where status = 'confirmed';
      create index grants_by_status on grants (status, id);
      create index plans_current on plans (created_at) where superseded_at is null;
      create index grid_events_window on grid_events (ends_at, starts_at)
    `,
  },
  {
    id: 6,
    name: 'plans per work unit: each top-level grid node (and the site) has its own current plan',
    sql: `
      alter table plans add column unit text not null default 'site';
      drop index if exists plans_current;
      create index plans_current on plans (unit, created_at) where superseded_at is null
    `,
  },
  {
    id: 7,
    name: 'vehicle API quota: a cluster-wide request budget, per-car back-off, the source of each stored state',
    sql: `
      -- One token bucket per key ('vehicle-api': the application's requests), shared by every instance.
      create table request_budget (
        key text primary key,
        tokens double precision not null,
        refilled_at timestamptz not null,
        -- What the last take granted: the statement that takes tokens returns it (no read-modify-write).
        last_granted integer not null default 0
      );
      -- When each car was last asked, and when it may be asked again (a 429 with Retry-After).
      create table vehicle_polls (
        vehicle_id text primary key references vehicles(id) on delete cascade,
        last_attempt_at timestamptz,
        not_before timestamptz,
        not_before_reason text
      );
      alter table vehicle_states add column source text not null default 'poll'
        check (source in ('poll', 'webhook'));
      -- Webhook events already stored (by eventId or requestId): a replayed delivery stores nothing again.
      create table webhook_events (
        id text primary key,
        received_at timestamptz not null
      );
      create index webhook_events_by_age on webhook_events (received_at)
    `,
  },
  {
    id: 8,
    name: 'commands in flight per car: one command of a car is sent at a time, cluster-wide',
    sql: `
      create index commands_in_flight on commands (vehicle_id) where status = 'sending'
    `,
  },
  {
    id: 9,
    name: 'commands handed to the job engine: each attempt is offered once, not at every dispatch tick',
    sql: `
      alter table commands add column offered_attempts integer;
      create index commands_to_offer on commands (due_at, vehicle_id, action)
        where status = 'pending' and offered_attempts is distinct from attempts
    `,
  },
  {
    id: 10,
    name: 'plan overviews: what the fleet dashboard reads, without every car of the plan',
    sql: `
      alter table plans add column overview jsonb
    `,
  },
  {
    id: 11,
    name: 'each car’s own plan beside its planned power: a dashboard page reads its cars by key',
    sql: `
      alter table vehicle_plans add column body jsonb
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
      const statements = migration.statements ?? splitStatements(migration.sql ?? '');
      for (const statement of statements) await tx.query(statement);
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
