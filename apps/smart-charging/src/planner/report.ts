/** Human- and machine-readable renderings of a plan: a terminal table and CSV. */
import type { Plan } from './plan.ts';

const fmt = (value: number, digits = 2): string => value.toFixed(digits);

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) =>
      r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '),
    )
    .join('\n');
}

/** Summary, per-vehicle lines (the first `maxVehicles`) and the assumptions the plan rests on. */
export function formatPlanReport(
  plan: Plan,
  options: { maxVehicles?: number; currency?: string } = {},
): string {
  const { summary } = plan;
  const currency = options.currency ?? summary.currency ?? '(currency not stated)';
  const money = (v: number) => `${fmt(v)} ${currency}`;
  const lines: string[] = [];
  lines.push(
    `Plan ${plan.start} → ${plan.end} (${plan.timeZone}, ${plan.slotMinutes}-min slots, objective ${summary.objective})`,
  );
  lines.push('');
  lines.push(
    table([
      ['same energy for the targets', 'planned', 'at once on arrival'],
      ['energy (kWh)', fmt(summary.targetEnergyKwh), fmt(summary.immediateEnergyKwh)],
      ['cost', money(summary.targetEnergyCost), money(summary.immediateCost)],
      [
        'average price per kWh',
        perKwh(summary.targetEnergyCost, summary.targetEnergyKwh, currency),
        perKwh(summary.immediateCost, summary.immediateEnergyKwh, currency),
      ],
      ['peak grid import incl. base load (kW)', fmt(summary.peakAfterKw), fmt(summary.peakBeforeKw)],
    ]),
  );
  const share =
    summary.immediateCost > 0 ? ` (${fmt((summary.savings / summary.immediateCost) * 100, 1)} %)` : '';
  lines.push(`savings for the same energy: ${money(summary.savings)}${share}`);
  if (summary.opportunisticEnergyKwh > 0.005) {
    lines.push(
      `opportunistic extra: ${fmt(summary.opportunisticEnergyKwh)} kWh beyond the targets, bought below the cars' price caps, for ${money(summary.opportunisticCost)} (${perKwh(summary.opportunisticCost, summary.opportunisticEnergyKwh, currency)})`,
    );
  }
  lines.push(
    `total as planned: ${fmt(summary.energyKwh)} kWh for ${money(summary.totalCost)}${summary.demandCharge > 0 ? ` (demand charge ${money(summary.demandCharge)})` : ''}   base-load peak: ${fmt(summary.baseLoadPeakKw)} kW`,
  );
  if (plan.slots.some((slot) => slot.pvKw > 0)) {
    const pvKwh = plan.slots.reduce((sum, slot) => sum + (slot.pvKw * plan.slotMinutes) / 60, 0);
    lines.push(
      `PV: ${fmt(summary.solarChargingKwh)} kWh of surplus into the cars (of ${fmt(pvKwh)} kWh generated); grid import ${fmt(summary.gridImportKwh)} kWh, export ${fmt(summary.gridExportKwh)} kWh (site, base load included)`,
    );
  }
  lines.push(
    `vehicles short of target: ${summary.vehiclesShort} of ${summary.vehicles} (${fmt(summary.shortfallKwh)} kWh missing)`,
  );
  lines.push('');
  const shown = plan.vehicles.slice(0, options.maxVehicles ?? 20);
  const rows = [
    ['vehicle', 'kWh', `cost (${currency})`, 'SoC now', 'final', 'target', 'charged by', 'status'],
  ];
  for (const v of shown) {
    rows.push([
      v.id,
      fmt(v.energyKwh),
      fmt(v.cost),
      `${fmt(v.socPercent[0] ?? 0, 1)} %`,
      `${fmt(v.finalSocPercent, 1)} %`,
      `${fmt(v.targetSocPercent, 1)} %`,
      v.chargeCompleteAt ? v.chargeCompleteAt.slice(5, 16).replace('T', ' ') : '–',
      v.shortfall ? `short ${fmt(v.shortfall.kwh)} kWh (${v.shortfall.cause})` : 'ok',
    ]);
  }
  lines.push(table(rows));
  if (plan.vehicles.length > shown.length)
    lines.push(`… and ${plan.vehicles.length - shown.length} more vehicles (see the JSON/CSV output)`);
  for (const v of shown) {
    if (v.shortfall) lines.push(`  ${v.id}: ${v.shortfall.message}`);
    for (const w of v.warnings) lines.push(`  ${v.id}: ${w}`);
  }
  for (const warning of plan.warnings) lines.push(`warning: ${warning}`);
  if (plan.assumptions.length > 0) {
    lines.push('');
    lines.push('Assumed prices (not yet published):');
    for (const a of plan.assumptions) {
      lines.push(
        `  ${a.from} → ${a.to}: ${a.slots} slots, ${a.method}, mean ${fmt(a.meanPricePerKwh, 4)} ${currency}/kWh`,
      );
    }
  }
  return lines.join('\n');
}

/** Long-format CSV: one row per slot and vehicle (power, SoC at slot end), with the slot's grid data. */
export function planToCsv(plan: Plan): string {
  const out: string[] = [
    'slot_start,vehicle_id,power_kw,soc_percent_end,price_per_kwh,currency,price_assumed,limit_kw,base_kw,charging_kw,export_price_per_kwh,pv_kw,solar_charging_kw,self_consumption_kw,grid_import_kw,grid_export_kw',
  ];
  const currency = plan.summary.currency ?? '';
  plan.slots.forEach((slot, t) => {
    const site = [
      slot.exportPricePerKwh ?? '',
      slot.pvKw,
      round(slot.solarChargingKw),
      round(slot.selfConsumptionKw),
      round(slot.gridImportKw),
      round(slot.gridExportKw),
    ].join(',');
    const tail = `${slot.pricePerKwh},${currency},${slot.priceAssumed ? 1 : 0},${slot.limitKw},${slot.baseKw},${round(slot.chargingKw)},${site}`;
    for (const v of plan.vehicles) {
      out.push(
        `${slot.start},${csvCell(v.id)},${round(v.powerKw[t] ?? 0)},${round(v.socPercent[t + 1] ?? 0)},${tail}`,
      );
    }
  });
  return `${out.join('\n')}\n`;
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

function csvCell(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function perKwh(cost: number, kwh: number, currency: string): string {
  return kwh > 0 ? `${(cost / kwh).toFixed(4)} ${currency}/kWh` : '–';
}
