import type { BuiltQuery } from './cursor.ts';
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

/** Every node below (and including) each of `$1`'s nodes, tagged with the node it descends from. */
const FOREST_CTE = `with recursive tree(root_id, id) as (
    select id, id from grid_nodes where id = any($1::text[])
    union all
    select tree.root_id, child.id from grid_nodes child join tree on child.parent_id = tree.id)`;

export function nodeCountsQuery(nodeIds: readonly string[]): BuiltQuery {
  return {
    text: `${FOREST_CTE}
      select tree.root_id, count(*)::int as cars,
        (count(*) filter (where (s.body ->> 'pluggedIn')::boolean))::int as plugged,
        (count(*) filter (where s.body ->> 'charging' = 'CHARGING'))::int as charging
      from tree
      join vehicles v on v.grid_node_id = tree.id
      left join vehicle_states s on s.vehicle_id = v.id
      group by tree.root_id`,
    params: [nodeIds],
  };
}

export function nodeBaseLoadQuery(nodeIds: readonly string[]): BuiltQuery {
  return {
    text: `${FOREST_CTE}
      select tree.root_id, sum(n.base_load_kwh_per_year)::float8 as base_load
      from tree join grid_nodes n on n.id = tree.id
      group by tree.root_id`,
    params: [nodeIds],
  };
}

export function nodePlannedPowerQuery(nodeIds: readonly string[]): BuiltQuery {
  return {
    text: `${FOREST_CTE}
      select tree.root_id,
        p.first_slot_start + (slot.i - 1) * p.slot_minutes * interval '1 minute' as slot_start,
        sum(slot.kw)::float8 as kw
      from tree
      join vehicles v on v.grid_node_id = tree.id
      join vehicle_plans p on p.vehicle_id = v.id
      cross join lateral unnest(p.power_kw) with ordinality as slot(kw, i)
      group by 1, 2
      order by 1, 2`,
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
  const [counts, baseLoads, planned] = [
    await run<{ root_id: string; cars: number; plugged: number; charging: number }>(nodeCountsQuery(nodeIds)),
    await run<{ root_id: string; base_load: number }>(nodeBaseLoadQuery(nodeIds)),
    await run<{ root_id: string; slot_start: Date | string; kw: number }>(nodePlannedPowerQuery(nodeIds)),
  ];
  const countOf = new Map(counts.map((row) => [row.root_id, row]));
  const plannedOf = new Map<string, { start: string; kw: number }[]>();
  for (const row of planned) {
    const series = plannedOf.get(row.root_id) ?? [];
    series.push({ start: new Date(row.slot_start).toISOString(), kw: row.kw });
    plannedOf.set(row.root_id, series);
  }
  const baseLoadOf = new Map(baseLoads.map((row) => [row.root_id, row.base_load]));
  return nodeIds.flatMap((nodeId) => {
    const baseLoad = baseLoadOf.get(nodeId);
    if (baseLoad === undefined) return [];
    const count = countOf.get(nodeId);
    return [
      {
        nodeId,
        cars: count?.cars ?? 0,
        plugged: count?.plugged ?? 0,
        charging: count?.charging ?? 0,
        baseLoadKwhPerYear: baseLoad,
        plannedKw: plannedOf.get(nodeId) ?? [],
      },
    ];
  });
}

/**
 * Replaces every car's share of the plan with this plan's (a fleet plan covers every car it plans; a car
 * it leaves out has no planned load).
 */
export async function replaceVehiclePlans(
  tx: SqlQueryable,
  planId: string,
  firstSlotStart: Date,
  slotMinutes: number,
  vehicles: readonly { readonly vehicleId: string; readonly powerKw: readonly number[] }[],
): Promise<void> {
  await tx.query('delete from vehicle_plans');
  if (vehicles.length === 0) return;
  await tx.query(
    `insert into vehicle_plans (vehicle_id, plan_id, first_slot_start, slot_minutes, power_kw)
     select entry ->> 'vehicleId', $1, $2, $3,
       array(select value::float8 from jsonb_array_elements_text(entry -> 'powerKw') with ordinality as power(value, i) order by i)
     from jsonb_array_elements($4::jsonb) as entry
     where exists (select 1 from vehicles where id = entry ->> 'vehicleId')`,
    [planId, firstSlotStart, slotMinutes, JSON.stringify(vehicles)],
  );
}
