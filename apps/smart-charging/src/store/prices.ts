import type { SqlQueryable } from './sql-client.ts';

export interface PriceSlot {
  readonly start: Date;
  readonly end: Date;
  /** Currency units per kWh (the configured source decides the currency). */
  readonly pricePerKwh: number;
}

/** Stores a fetched price series; a later fetch of the same slot (a correction) replaces the old value. */
export async function savePrices(
  tx: SqlQueryable,
  source: string,
  slots: readonly PriceSlot[],
): Promise<void> {
  for (const slot of slots) {
    if (!(slot.end > slot.start) || !Number.isFinite(slot.pricePerKwh)) {
      throw new Error(
        `invalid price slot from ${source} at ${slot.start.toISOString()}: end must follow start and price be finite`,
      );
    }
  }
  for (const slot of slots) {
    await tx.query(
      `insert into prices (source, slot_start, slot_end, price_per_kwh, fetched_at) values ($1, $2, $3, $4, now())
       on conflict (source, slot_start) do update
         set slot_end = excluded.slot_end, price_per_kwh = excluded.price_per_kwh, fetched_at = now()`,
      [source, slot.start, slot.end, slot.pricePerKwh],
    );
  }
}

/** Slots overlapping [from, to), in time order. */
export async function loadPrices(
  tx: SqlQueryable,
  source: string,
  from: Date,
  to: Date,
): Promise<PriceSlot[]> {
  const rows = await tx.query<{ slot_start: Date | string; slot_end: Date | string; price_per_kwh: number }>(
    `select slot_start, slot_end, price_per_kwh from prices
     where source = $1 and slot_end > $2 and slot_start < $3 order by slot_start`,
    [source, from, to],
  );
  return rows.map((row) => ({
    start: new Date(row.slot_start),
    end: new Date(row.slot_end),
    pricePerKwh: row.price_per_kwh,
  }));
}
