/**
 * A plan drawn with the service's chart (`src/chart`), so `voltkit-plan --svg` and the dashboard show the
 * same axes, units, zone and legend.
 */
import {
  renderLoadPriceFigure,
  type ChartSlot,
  type LoadPriceChartInput,
} from '../chart/load-price-chart.ts';
import type { Plan } from './plan.ts';

/** The chart's input for a plan: a slot per plan slot with each vehicle's planned kW. */
export function planChartInput(plan: Plan): LoadPriceChartInput {
  const slots: ChartSlot[] = plan.slots.map((slot, index) => ({
    start: slot.start,
    pricePerKwh: slot.pricePerKwh,
    priceAssumed: slot.priceAssumed,
    // A site without a limit plans against Infinity; the chart draws no limit there.
    limitKw: Number.isFinite(slot.limitKw) ? slot.limitKw : null,
    baseLoadKw: slot.baseKw,
    plannedKw: Object.fromEntries(
      plan.vehicles
        .filter((vehicle) => (vehicle.powerKw[index] ?? 0) > 0)
        .map((vehicle) => [vehicle.id, vehicle.powerKw[index]!]),
    ),
  }));
  return {
    slots,
    slotMinutes: plan.slotMinutes,
    currency: plan.summary.currency,
    timeZone: plan.timeZone,
  };
}

/** What the chart must say above itself: cars the plan cannot bring to target, and assumed prices. */
export function planChartWarnings(plan: Plan): string[] {
  const short = plan.vehicles.filter((vehicle) => vehicle.shortfall);
  const warnings: string[] = [];
  if (short.length > 0) {
    const kwh = short.reduce((sum, vehicle) => sum + vehicle.shortfall!.kwh, 0);
    const named = short
      .slice(0, 3)
      .map((vehicle) => vehicle.id)
      .join(', ');
    const more = short.length > 3 ? ` and ${short.length - 3} more` : '';
    warnings.push(
      `Shortfall: ${short.length} of ${plan.vehicles.length} vehicles miss their target by ${kwh.toFixed(1)} kWh in all (${named}${more})`,
    );
  }
  const assumed = plan.slots.filter((slot) => slot.priceAssumed).length;
  if (assumed > 0)
    warnings.push(
      `${assumed} of ${plan.slots.length} slots use an assumed price (shaded): no published price`,
    );
  return warnings;
}

/** The plan as a standalone SVG file: title, warnings, the load and price chart, its legend. */
export function renderPlanSvg(plan: Plan, options: { title?: string; maxSeries?: number } = {}): string {
  return renderLoadPriceFigure(
    { ...planChartInput(plan), ...(options.maxSeries === undefined ? {} : { maxSeries: options.maxSeries }) },
    {
      title: options.title ?? `Charging plan ${plan.start} → ${plan.end}`,
      warnings: planChartWarnings(plan),
    },
  );
}
