import type { BuiltQuery } from './cursor.ts';
import { subtreeSql } from './grid-nodes.ts';
import type { SqlQueryable } from './sql-client.ts';

/** What a dashboard shows per node: its cars and their planned load, summed over the node's whole subtree. */
export interface GridNodeAggregate {
  readonly nodeId: string;
  readonly cars: number;
  readonly plugged: number;
  readonly charging: number;
  /** Base load of the node and every node below it, kWh per year. */
  readonly baseLoadKwhPerYear: number;
  /** Planned charging power of the subtree's cars per slot of the current plan, kW (slot average). */
  readonly plannedKw: readonly { readonly start: string; readonly kw: number }[];
}

/**
 * Every node below (and including) each of `$1`'s nodes, tagged with the node it descends from. The
 * per-node parts below are aggregated subqueries joined laterally: each runs for one node with that
 * node's id, so it reaches the node's cars through `vehicles_on_node` whatever the fleet's size.
 */
const FOREST_CTE = `with tree as (${subtreeSql('$1::text[]')})`;

export function nodeCountsQuery(nodeIds: readonly string[]): BuiltQuery {
  return {
    text: `${FOREST_CTE}
      select tree.root_id, sum(node.cars)::int as cars, sum(node.plugged)::int as plugged,
        sum(node.charging)::int as charging, sum(tree.base_load)::float8 as base_load
      from tree
      cross join lateral (
        select count(v.id) as cars,
          count(*) filter (where (s.body ->> 'pluggedIn')::boolean) as plugged,
          count(*) filter (where s.body ->> 'charging' = 'CHARGING') as charging
        from vehicles v left join vehicle_states s on s.vehicle_id = v.id
        where v.grid_node_id = tree.id) node
      group by tree.root_id`,
    params: [nodeIds],
  };
}

/** Each car's plan under the nodes (per node through `vehicles_on_node`); the slots are summed in JS. */
export function nodePlannedPowerQuery(nodeIds: readonly string[]): BuiltQuery {
  return {
    text: `${FOREST_CTE}
      select tree.root_id, node.first_slot_start, node.slot_minutes, node.power_kw
      from tree
      cross join lateral (
        select p.first_slot_start, p.slot_minutes, p.power_kw
        from vehicles v join vehicle_plans p on p.vehicle_id = v.id
        where v.grid_node_id = tree.id) node`,
    params: [nodeIds],
  };
}

/** Aggregates of the given nodes (unknown ids are left out), in the order given. */
export async function gridNodeAggregates(
  tx: SqlQueryable,
  nodeIds: readonly string[],
): Promise<GridNodeAggregate[]> {
  if (nodeIds.length === 0) return [];
  const run = <TRow extends Record<string, unknown>>(query: BuiltQuery) =>
    tx.query<TRow>(query.text, query.params);
  const counts = await run<{
    root_id: string;
    cars: number;
    plugged: number;
    charging: number;
    base_load: number;
  }>(nodeCountsQuery(nodeIds));
  const planned = await run<{
    root_id: string;
    first_slot_start: Date | string;
    slot_minutes: number;
    power_kw: number[];
  }>(nodePlannedPowerQuery(nodeIds));
  const countOf = new Map(counts.map((row) => [row.root_id, row]));
  // Summing 96 slots of a few hundred cars here is far cheaper than unnesting them into rows in SQL.
  const sums = new Map<string, Map<number, number>>();
  for (const row of planned) {
    const bySlot = sums.get(row.root_id) ?? new Map<number, number>();
    const first = new Date(row.first_slot_start).getTime();
    row.power_kw.forEach((kw, index) => {
      const start = first + index * row.slot_minutes * 60_000;
      bySlot.set(start, (bySlot.get(start) ?? 0) + kw);
    });
    sums.set(row.root_id, bySlot);
  }
  const plannedOf = new Map(
    [...sums].map(([nodeId, bySlot]) => [
      nodeId,
      [...bySlot]
        .sort(([a], [b]) => a - b)
        .map(([start, kw]) => ({ start: new Date(start).toISOString(), kw })),
    ]),
  );
  return nodeIds.flatMap((nodeId) => {
    const count = countOf.get(nodeId);
    if (count === undefined) return [];
    return [
      {
        nodeId,
        cars: count.cars,
        plugged: count.plugged,
        charging: count.charging,
        baseLoadKwhPerYear: count.base_load,
        plannedKw: plannedOf.get(nodeId) ?? [],
      },
    ];
  });
}

/** A car's entry of a plan, stored whole (the dashboard shows it); its power also as an array to sum. */
export interface VehiclePlanShare {
  readonly id: string;
  readonly powerKw: readonly number[];
}

/**
 * Replaces the unit's cars' shares of the plan with this plan's (a plan covers every car of its unit it
 * plans; a car it leaves out has no planned load). Without `unitVehicleIds`, every car's.
 */
export async function replaceVehiclePlans(
  tx: SqlQueryable,
  planId: string,
  firstSlotStart: Date,
  slotMinutes: number,
  vehicles: readonly VehiclePlanShare[],
  unitVehicleIds?: readonly string[],
): Promise<void> {
  if (unitVehicleIds === undefined) await tx.query('delete from vehicle_plans');
  else await tx.query('delete from vehicle_plans where vehicle_id = any($1::text[])', [unitVehicleIds]);
  if (vehicles.length === 0) return;
  await tx.query(
    `insert into vehicle_plans (vehicle_id, plan_id, first_slot_start, slot_minutes, power_kw, body)
     select entry ->> 'id', $1, $2, $3,
       array(select value::float8 from jsonb_array_elements_text(entry -> 'powerKw') with ordinality as power(value, i) order by i),
       entry
     from jsonb_array_elements($4::jsonb) as entry
     where exists (select 1 from vehicles where id = entry ->> 'id')`,
    [planId, firstSlotStart, slotMinutes, JSON.stringify(vehicles)],
  );
}
