import { randomUUID } from 'node:crypto';
import { replaceVehiclePlans } from './grid-aggregates.ts';
import type { SqlQueryable } from './sql-client.ts';

export interface StoredPlan<TBody = unknown> {
  readonly id: string;
  readonly reason: string;
  readonly createdAt: Date;
  readonly horizonStart: Date;
  readonly horizonEnd: Date;
  readonly body: TBody;
}

/** Records a new plan and marks the previous current one superseded; returns the new plan's id. */
export async function savePlan(
  tx: SqlQueryable,
  plan: {
    readonly reason: string;
    readonly horizonStart: Date;
    readonly horizonEnd: Date;
    readonly body: unknown;
    /** Each car's planned power per slot, for per-node aggregates without parsing the plan body. */
    readonly vehiclePower?: {
      readonly firstSlotStart: Date;
      readonly slotMinutes: number;
      readonly vehicles: readonly { readonly vehicleId: string; readonly powerKw: readonly number[] }[];
    };
  },
): Promise<string> {
  const id = randomUUID();
  await tx.query('update plans set superseded_at = now() where superseded_at is null');
  await tx.query(
    'insert into plans (id, reason, horizon_start, horizon_end, body) values ($1, $2, $3, $4, $5)',
    [id, plan.reason, plan.horizonStart, plan.horizonEnd, JSON.stringify(plan.body)],
  );
  if (plan.vehiclePower)
    await replaceVehiclePlans(
      tx,
      id,
      plan.vehiclePower.firstSlotStart,
      plan.vehiclePower.slotMinutes,
      plan.vehiclePower.vehicles,
    );
  return id;
}

export const CURRENT_PLAN_QUERY =
  'select * from plans where superseded_at is null order by created_at desc limit 1';

export async function loadCurrentPlan<TBody>(tx: SqlQueryable): Promise<StoredPlan<TBody> | undefined> {
  const rows = await tx.query<{
    id: string;
    reason: string;
    created_at: Date | string;
    horizon_start: Date | string;
    horizon_end: Date | string;
    body: TBody;
  }>(CURRENT_PLAN_QUERY);
  const row = rows[0];
  return (
    row && {
      id: row.id,
      reason: row.reason,
      createdAt: new Date(row.created_at),
      horizonStart: new Date(row.horizon_start),
      horizonEnd: new Date(row.horizon_end),
      body: row.body,
    }
  );
}
