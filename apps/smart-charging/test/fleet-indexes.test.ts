import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CAR_BUSY_SQL,
  CLAIM_DUE_SQL,
  COMMANDED_ON_TIME_OF_VEHICLES_SQL,
  COMMANDED_ON_TIME_SQL,
  DUE_COMMANDS_OF_VEHICLES_SQL,
  DUE_COMMANDS_SQL,
  IN_FLIGHT_SQL,
} from '../src/store/command-log.ts';
import { commandListQuery } from '../src/store/command-pages.ts';
import { encodeCursor, type BuiltQuery } from '../src/store/cursor.ts';
import { grantListQuery } from '../src/store/grant-listing.ts';
import { nodeCountsQuery, nodePlannedPowerQuery } from '../src/store/grid-aggregates.ts';
import { gridNodeListQuery } from '../src/store/grid-nodes.ts';
import { migrate } from '../src/store/migrations.ts';
import { LAST_SWITCH_SQL } from '../src/service/planning.ts';
import {
  CURRENT_PLAN_OF_UNIT_QUERY,
  CURRENT_PLAN_OVERVIEWS_QUERY,
  PLANNED_VEHICLES_QUERY,
} from '../src/store/plans.ts';
import { pollCandidatesQuery } from '../src/store/request-budget.ts';
import { EXPIRE_WEBHOOK_EVENTS_SQL } from '../src/store/vehicles.ts';
import { openSqlClient, type SqlClient } from '../src/store/sql-client.ts';
import { TEST_DATABASE_URL } from '../src/store/test-backends.ts';
import {
  oneVehicleQuery,
  ownerVehicleIdsQuery,
  vehicleListQuery,
  vehicleOwnerQuery,
} from '../src/store/vehicle-listing.ts';
import {
  nodeUnit,
  unitsOfVehiclesQuery,
  unitTreeQuery,
  unitVehicleIdsQuery,
  unitVehiclesQuery,
  vehiclesWithStateQuery,
} from '../src/store/work-units.ts';
import { carId, feederId, fillFleet, ownerId } from './fleet-fixture.ts';

const CARS = 30_000;
const FEEDERS = 500;
/** Commands left `sending` in the fixture: what a few instances have in flight at a moment. */
const IN_FLIGHT = 200;
const START = new Date('2026-11-21T21:00:00Z');
/** Tables that grow with the fleet: none of them may be read whole by a list, one-car or aggregate query. */
const BIG_TABLES = new Set([
  'vehicles',
  'vehicle_states',
  'preferences',
  'grants',
  'owners',
  'commands',
  'vehicle_plans',
  'grid_nodes',
  'vehicle_polls',
  'webhook_events',
]);

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

function walk(node: PlanNode, visit: (node: PlanNode) => void): void {
  visit(node);
  for (const child of node.Plans ?? []) walk(child, visit);
}

/**
 * The API's and the engine's queries, EXPLAIN ANALYZEd on PostgreSQL with 30,000 cars (120,000 commands,
 * 900 grid nodes, 300 plans) and fresh statistics — no planner switches: the plans are what PostgreSQL
 * chooses for these row counts. Each must reach the fleet's tables through an index, and must not read
 * more rows than a page needs (the actual row counts of every scan are checked, not only the node type).
 */
describe('fleet-scale queries use an index on PostgreSQL', () => {
  let db: SqlClient;
  const schema = `voltkit_explain_${randomBytes(6).toString('hex')}`;
  const report: string[] = [];
  let sendingCommandId = '';

  beforeAll(async () => {
    db = await openSqlClient({ databaseUrl: TEST_DATABASE_URL, schema });
    await migrate(db);
    await fillFleet(db, { cars: CARS, feeders: FEEDERS, start: START });
    // Every car tried by the poll once, one in ten held back by a 429; a day of webhook events.
    await db.query(
      `insert into vehicle_polls (vehicle_id, last_attempt_at, not_before)
       select id, $1::timestamptz - (row_number() over (order by id) % 600) * interval '1 second',
         case when row_number() over (order by id) % 10 = 0 then $1::timestamptz + interval '10 minutes' end
       from vehicles`,
      [START],
    );
    await db.query(
      `insert into webhook_events (id, received_at)
       select 'v3:' || i, $1::timestamptz - (i % 86400) * interval '1 second' from generate_series(1, $2::int) i`,
      [START, CARS * 2],
    );
    // Commands being sent right now, as across a few busy instances: the car-busy check must find a
    // car's own among them, not read them all.
    await db.query(
      `update commands set status = 'sending', sent_at = $1::timestamptz - interval '10 seconds'
       where id in (select id from commands where status = 'pending' order by id limit $2)`,
      [START, IN_FLIGHT],
    );
    // A re-plan's burst waiting in the engine: most pending commands were offered already, and the
    // dispatch must find the few not offered without reading past the offered ones.
    await db.query(
      `update commands set offered_attempts = attempts where status = 'pending' and abs(hashtext(id)) % 10 <> 0`,
    );
    [{ id: sendingCommandId }] = (await db.query<{ id: string }>(
      `select id from commands where status = 'sending' order by id desc limit 1`,
    )) as [{ id: string }];
    await db.query('analyze');
  }, 180_000);
  afterAll(async () => {
    if (!db) return;
    console.log(`EXPLAIN ANALYZE with ${CARS} cars on ${FEEDERS} feeders:\n${report.join('\n')}`);
    await db.query(`drop schema ${schema} cascade`);
    await db.close();
  });

  async function explain(query: BuiltQuery, analyze = true) {
    const rows = await db.query<{ 'QUERY PLAN': [{ Plan: PlanNode; 'Execution Time'?: number }] }>(
      `explain (${analyze ? 'analyze, ' : ''}format json) ${query.text}`,
      query.params,
    );
    const [{ Plan: plan, 'Execution Time': ms }] = rows[0]!['QUERY PLAN'];
    const seqScans: string[] = [];
    const indexes = new Set<string>();
    let maxRowsRead = 0;
    walk(plan, (node) => {
      if (node['Node Type'] === 'Seq Scan' && BIG_TABLES.has(node['Relation Name'] ?? ''))
        seqScans.push(node['Relation Name']!);
      if (node['Index Name']) indexes.add(node['Index Name']);
      if (node['Relation Name'] && BIG_TABLES.has(node['Relation Name']))
        maxRowsRead = Math.max(
          maxRowsRead,
          ((node['Actual Rows'] ?? 0) +
            (node['Rows Removed by Filter'] ?? 0) +
            (node['Rows Removed by Index Recheck'] ?? 0)) *
            (node['Actual Loops'] ?? 1),
        );
    });
    return { seqScans, indexes: [...indexes].sort(), ms: ms ?? null, maxRowsRead };
  }

  const deepCar = carId(Math.round(CARS * 0.9));
  /** A grid unit's cars, as the per-unit poll passes them: a hundred of the fleet, spread over it. */
  const unitCars = Array.from({ length: 100 }, (_, i) => carId(1 + i * 293));
  const cases: [name: string, query: () => BuiltQuery, expectIndex: RegExp, maxRows: number][] = [
    [
      'poll: a unit’s cars, back-off and last state',
      () => pollCandidatesQuery(unitCars),
      /vehicle_polls_pkey.*vehicle_states_pkey|vehicle_states_pkey.*vehicle_polls_pkey/,
      100,
    ],
    ['vehicles: first page', () => vehicleListQuery({ limit: 100 }), /vehicles_pkey/, 101],
    [
      'vehicles: deep cursor page (90 %)',
      () => vehicleListQuery({ limit: 100, cursor: encodeCursor([deepCar]) }),
      /vehicles_pkey/,
      101,
    ],
    [
      'vehicles: an owner’s',
      () => vehicleListQuery({ limit: 100, ownerId: ownerId(4242) }),
      /grants_by_owner/,
      10,
    ],
    [
      'vehicles: one feeder’s subtree',
      () => vehicleListQuery({ limit: 100, nodeId: feederId(17) }),
      /vehicles_on_node/,
      CARS / FEEDERS + 6,
    ],
    [
      'vehicles: revoked grants, a page',
      () => vehicleListQuery({ limit: 100, grantStatus: 'revoked' }),
      /pkey/,
      100 * 60,
    ],
    ['vehicles: one car', () => oneVehicleQuery(deepCar), /vehicles_pkey/, 1],
    ['vehicles: one car’s owner (access check)', () => vehicleOwnerQuery(deepCar), /vehicles_pkey/, 1],
    ['vehicles: an owner’s car ids', () => ownerVehicleIdsQuery(ownerId(4242)), /grants_by_owner/, 1],
    ['grants: first page', () => grantListQuery({ limit: 100 }), /grants_pkey/, 101],
    [
      'grants: deep cursor page (90 %)',
      () => grantListQuery({ limit: 100, cursor: encodeCursor([`grant-${deepCar.slice(4)}`]) }),
      /grants_pkey/,
      101,
    ],
    [
      'grants: an owner’s',
      () => grantListQuery({ limit: 100, ownerId: ownerId(4242) }),
      /grants_by_owner/,
      10,
    ],
    [
      'grants: revoked, a page',
      () => grantListQuery({ limit: 100, status: 'revoked' }),
      /grants_by_status/,
      101,
    ],
    ['commands: first page', () => commandListQuery({ limit: 100 }), /commands_in_due_order/, 101],
    [
      'commands: deep cursor page',
      () =>
        commandListQuery({
          limit: 100,
          cursor: encodeCursor([
            new Date(START.getTime() - 3_600_000).toISOString(),
            carId(1),
            'start_charge',
          ]),
        }),
      /commands_in_due_order/,
      101,
    ],
    [
      'commands: newest first (the console’s log)',
      () => commandListQuery({ limit: 100, order: 'newest' }),
      /commands_in_due_order/,
      101,
    ],
    [
      'commands: newest confirmed, next page',
      () =>
        commandListQuery({
          limit: 100,
          order: 'newest',
          status: 'confirmed',
          cursor: encodeCursor([START.toISOString(), carId(1), 'start_charge']),
        }),
      /commands_by_status/,
      101,
    ],
    [
      'commands: one car’s',
      () => commandListQuery({ limit: 100, vehicleId: deepCar }),
      /commands_of_vehicle/,
      4,
    ],
    [
      'commands: pending ones',
      () => commandListQuery({ limit: 100, status: 'pending' }),
      /commands_by_status/,
      101,
    ],
    [
      'commands: an owner’s',
      () => commandListQuery({ limit: 100, ownerId: ownerId(4242) }),
      /commands_of_vehicle|commands_vehicle_id_action_due_at_key/,
      4,
    ],
    [
      'commands: due since',
      () => commandListQuery({ limit: 100, since: START }),
      /commands_in_due_order/,
      101,
    ],
    [
      'grid nodes: feeders, a page',
      () => gridNodeListQuery({ kind: 'feeder', limit: 101 }),
      /grid_nodes_by_kind/,
      101,
    ],
    [
      'aggregate: a feeder’s cars and base load',
      () => nodeCountsQuery([feederId(17)]),
      /vehicles_on_node/,
      CARS / FEEDERS + 6,
    ],
    [
      'aggregate: a feeder’s planned kW per slot',
      () => nodePlannedPowerQuery([feederId(17)]),
      /vehicle_plans_pkey/,
      CARS / FEEDERS + 6,
    ],
    [
      'aggregate: 20 feeders (a dashboard page)',
      () => nodeCountsQuery(Array.from({ length: 20 }, (_, index) => feederId(index + 1))),
      /vehicles_on_node/,
      20 * (CARS / FEEDERS + 6),
    ],
    [
      'engine: a unit’s current plan',
      () => ({ text: CURRENT_PLAN_OF_UNIT_QUERY, params: [nodeUnit('sub-0002')] }),
      /plans_current/,
      1,
    ],
    [
      'dashboard: every unit’s current plan overview (not the old plans)',
      () => ({ text: CURRENT_PLAN_OVERVIEWS_QUERY, params: [null] }),
      /plans_current/,
      10,
    ],
    [
      'dashboard: an owner’s units’ current plan overviews',
      () => ({ text: CURRENT_PLAN_OVERVIEWS_QUERY, params: [['site', nodeUnit('sub-0002')]] }),
      /plans_current/,
      2,
    ],
    [
      'dashboard: a page of cars picked out of their units’ current plans',
      () => ({
        text: PLANNED_VEHICLES_QUERY,
        params: [
          ['site', nodeUnit('sub-0002')],
          [carId(1), carId(2)],
        ],
      }),
      /vehicle_plans_pkey/,
      2,
    ],
    [
      'engine: a unit’s cars with grant, state and preferences',
      () => unitVehiclesQuery(nodeUnit('sub-0002')),
      /vehicles_on_node/,
      // A substation of 50 feeders: its cars (one connection each), looked up per node of its subtree.
      (CARS / FEEDERS) * 50 + 50 * 6 + 1,
    ],
    [
      'engine: a unit’s car ids (its command dispatch)',
      () => unitVehicleIdsQuery(nodeUnit('sub-0002')),
      /vehicles_on_node/,
      (CARS / FEEDERS) * 50 + 50 * 6 + 1,
    ],
    [
      'engine: a unit’s grid tree',
      () => unitTreeQuery('sub-0002'),
      /grid_nodes_children/,
      (CARS / FEEDERS) * 50 + 50 * 6 + 1,
    ],
    [
      'dashboard: an owner’s cars with grant, state and preferences',
      () => vehiclesWithStateQuery([carId(17), carId(29_000)]),
      /vehicles_pkey/,
      2,
    ],
    [
      'engine: the units of some cars',
      () => unitsOfVehiclesQuery([carId(17), carId(29_000)]),
      /vehicles_pkey/,
      2,
    ],
    [
      'engine: switched-on time of a unit’s cars',
      () => ({
        text: COMMANDED_ON_TIME_OF_VEHICLES_SQL,
        params: [
          new Date(START.getTime() - 6 * 3_600_000),
          new Date(START.getTime() - 6 * 3_600_000 + 900_000),
          Array.from({ length: 60 }, (_, k) => carId(k * 500 + 1)),
        ],
      }),
      /commands_of_vehicle|commands_vehicle_id_action_due_at_key/,
      60 * 8,
    ],
    [
      'engine: due commands to claim',
      () => ({
        text: CLAIM_DUE_SQL,
        // A minute with nothing due yet: the scan must stop at the due time, not walk the future.
        params: [new Date(START.getTime() - 5 * 3_600_000), 100],
      }),
      /commands_by_status/,
      101,
    ],
    [
      'engine: due commands the dispatch hands out',
      // A burst: every pending command due, nine in ten already offered and waiting for their jobs.
      () => ({ text: DUE_COMMANDS_SQL, params: [new Date(START.getTime() + 2 * 86_400_000), 1000] }),
      /commands_to_offer/,
      1001,
    ],
    [
      'engine: another command of the car in flight (before a claim)',
      () => ({ text: CAR_BUSY_SQL, params: [sendingCommandId, new Date(START.getTime() - 120_000)] }),
      /commands_in_flight/,
      10,
    ],
    [
      'engine: due commands of a unit’s cars',
      () => ({
        text: DUE_COMMANDS_OF_VEHICLES_SQL,
        params: [
          new Date(START.getTime() - 5 * 3_600_000),
          Array.from({ length: 60 }, (_, k) => carId(k * 500 + 1)),
        ],
      }),
      /commands_of_vehicle|commands_vehicle_id_action_due_at_key/,
      60 * 8,
    ],
    [
      'engine: the last switch of a unit’s cars',
      () => ({ text: LAST_SWITCH_SQL, params: [Array.from({ length: 60 }, (_, k) => carId(k * 500 + 1))] }),
      /commands_of_vehicle|commands_vehicle_id_action_due_at_key/,
      60 * 8,
    ],
    [
      'engine: commands in flight',
      () => ({ text: IN_FLIGHT_SQL, params: [] }),
      /commands_in_flight|commands_by_status/,
      IN_FLIGHT,
    ],
    [
      'engine: switched-on time in a window',
      () => ({
        text: COMMANDED_ON_TIME_SQL,
        // The last 15 minutes of a day's log: what a re-plan in the middle of a slot asks.
        params: [
          new Date(START.getTime() - 6 * 3_600_000),
          new Date(START.getTime() - 6 * 3_600_000 + 900_000),
        ],
      }),
      // It looks two days back for each car's last switch: every confirmed command of those days.
      /commands_confirmed/,
      CARS * 3,
    ],
  ];

  it.each(cases)('%s', async (name, query, expectIndex, maxRows) => {
    const result = await explain(query());
    report.push(
      `${name.padEnd(44)} ${result.indexes.join(', ').padEnd(70)} ${result.ms?.toFixed(2) ?? '–'} ms, ≤ ${result.maxRowsRead} rows per scan`,
    );
    expect(result.seqScans, `${name}: ${JSON.stringify(result)}`).toEqual([]);
    expect(result.indexes.join(' '), name).toMatch(expectIndex);
    expect(result.maxRowsRead, `${name}: rows read by one scan`).toBeLessThanOrEqual(maxRows);
  });

  it('webhook: forgetting old event ids goes through webhook_events_by_age (planned, not run)', async () => {
    const result = await explain(
      { text: EXPIRE_WEBHOOK_EVENTS_SQL, params: [new Date(START.getTime() - 86_000_000)] },
      false,
    );
    report.push(`${'webhook: expire event ids'.padEnd(44)} ${result.indexes.join(', ')}`);
    expect(result.seqScans).toEqual([]);
    expect(result.indexes.join(' ')).toMatch(/webhook_events_by_age/);
  });

  it('has the row counts the plans were made for (the planner would scan small tables whole)', async () => {
    const counts = await db.query<{ relname: string; n: number }>(
      `select relname, reltuples::int as n from pg_class
       where relnamespace = current_schema()::regnamespace and relname in ('vehicles', 'commands', 'grid_nodes')`,
    );
    expect(Object.fromEntries(counts.map((row) => [row.relname, row.n]))).toEqual({
      vehicles: CARS,
      commands: CARS * 4,
      grid_nodes: Math.ceil(FEEDERS / 50) + FEEDERS * 6 + CARS,
    });
  });
});
