import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { SqlQueryable } from './sql-client.ts';

/** The site's (or feeder's) standing connection to the grid. */
export const GridSettingsSchema = z
  .object({
    /** Import capacity shared by every car and the base load, in kW. */
    limitKw: z.number().positive(),
    /** Yearly household consumption used to scale the standard load profile; 0 = no base load. */
    baseLoadKwhPerYear: z.number().min(0),
    /**
     * `average`: the limit holds for each slot's average (what a utility's meter bills). `hard`: it holds in
     * every minute of the executed on/off schedule (a household main fuse).
     */
    limitMode: z.enum(['average', 'hard']).default('average'),
  })
  .strict();
export type GridSettings = z.infer<typeof GridSettingsSchema>;
export type GridSettingsInput = z.input<typeof GridSettingsSchema>;

export const DEFAULT_GRID_SETTINGS: GridSettings = {
  limitKw: 11,
  baseLoadKwhPerYear: 3500,
  limitMode: 'average',
};

/** A demand-response event: the utility lowers the available capacity for a window. */
export const GridEventInputSchema = z
  .object({
    kind: z.literal('demand_response'),
    startsAt: z.iso.datetime({ offset: true }),
    endsAt: z.iso.datetime({ offset: true }),
    limitKw: z.number().min(0),
  })
  .strict()
  .refine((event) => Date.parse(event.endsAt) > Date.parse(event.startsAt), {
    message: 'endsAt must be after startsAt',
    path: ['endsAt'],
  });
export type GridEventInput = z.infer<typeof GridEventInputSchema>;
export type GridEvent = GridEventInput & { readonly id: string };

export async function saveGridSettings(tx: SqlQueryable, settings: GridSettingsInput): Promise<void> {
  const valid = GridSettingsSchema.parse(settings);
  await tx.query(
    `insert into settings (key, body) values ('grid', $1)
     on conflict (key) do update set body = excluded.body, updated_at = now()`,
    [JSON.stringify(valid)],
  );
}

export async function loadGridSettings(tx: SqlQueryable): Promise<GridSettings> {
  const rows = await tx.query<{ body: unknown }>(`select body from settings where key = 'grid'`);
  return rows[0] ? GridSettingsSchema.parse(rows[0].body) : DEFAULT_GRID_SETTINGS;
}

export async function addGridEvent(tx: SqlQueryable, input: GridEventInput): Promise<GridEvent> {
  const event = { ...GridEventInputSchema.parse(input), id: randomUUID() };
  await tx.query(`insert into grid_events (id, kind, starts_at, ends_at, body) values ($1, $2, $3, $4, $5)`, [
    event.id,
    event.kind,
    event.startsAt,
    event.endsAt,
    JSON.stringify(event),
  ]);
  return event;
}

/** Events that overlap [from, to), in start order. */
export async function listGridEvents(tx: SqlQueryable, from: Date, to: Date): Promise<GridEvent[]> {
  const rows = await tx.query<{ body: unknown; id: string }>(
    `select id, body from grid_events where ends_at > $1 and starts_at < $2 order by starts_at, id`,
    [from, to],
  );
  return rows.map((row) => ({ ...GridEventInputSchema.parse(withoutId(row.body)), id: row.id }));
}

function withoutId(body: unknown): unknown {
  if (typeof body !== 'object' || body === null) return body;
  const { id: _id, ...rest } = body as Record<string, unknown>;
  return rest;
}
