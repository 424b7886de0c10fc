import type { SqlQueryable } from './sql-client.ts';

export interface PriceSlot {
  readonly start: Date;
  readonly end: Date;
  /** Currency units per kWh (the configured source decides the currency). */
  readonly pricePerKwh: number;
}

/**
 * Stores a price series as the source's effective prices for the time it covers: every stored slot that
 * overlaps one of the new slots, whatever its length, is replaced (a 5-minute import replaces the hourly
 * slots under it and the other way round). The schema refuses overlapping slots of one source, so two
 * tariffs are never averaged. Run it inside a transaction so that a failure keeps the old series.
 */
export async function savePrices(
  tx: SqlQueryable,
  source: string,
  slots: readonly PriceSlot[],
): Promise<void> {
  const ordered = [...slots].sort((a, b) => a.start.getTime() - b.start.getTime());
  for (const [index, slot] of ordered.entries()) {
    if (!(slot.end > slot.start) || !Number.isFinite(slot.pricePerKwh)) {
      throw new Error(
        `invalid price slot from ${source} at ${slot.start.toISOString()}: end must follow start and price be finite`,
      );
    }
    const previous = ordered[index - 1];
    if (previous && slot.start < previous.end) {
      throw new Error(
        `invalid price series from ${source}: the slot at ${slot.start.toISOString()} overlaps the one before it`,
      );
    }
  }
  if (ordered.length === 0) return;
  await tx.query(
    `delete from prices p where p.source = $1 and exists (
       select 1 from unnest($2::timestamptz[], $3::timestamptz[]) as incoming(slot_start, slot_end)
       where p.slot_start < incoming.slot_end and p.slot_end > incoming.slot_start)`,
    [source, ordered.map((slot) => slot.start), ordered.map((slot) => slot.end)],
  );
  for (const slot of ordered) {
    await tx.query(
      `insert into prices (source, slot_start, slot_end, price_per_kwh, fetched_at) values ($1, $2, $3, $4, now())`,
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
