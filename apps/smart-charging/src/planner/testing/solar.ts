/**
 * A clear-sky PV profile for tests, the bench and the example: the sun's elevation from the standard
 * declination / hour-angle formulas, output ∝ sin(elevation) (no weather, no shading). A model, not a
 * measured series: tests pair it with real day-ahead prices.
 */
import { slotStartMs, type SlotGrid } from '../time-grid.ts';

export interface PvSite {
  /** Peak output (kW) with the sun at the zenith. */
  readonly peakKw: number;
  readonly latitude: number;
  readonly longitude: number;
}

/** Berlin rooftop, 8 kWp. */
export const BERLIN_HOME_PV: PvSite = { peakKw: 8, latitude: 52.52, longitude: 13.4 };

export function clearSkyPvKw(grid: SlotGrid, site: PvSite): number[] {
  const slotMs = grid.slotMinutes * 60_000;
  return Array.from({ length: grid.slotCount }, (_, t) => {
    const middle = new Date(slotStartMs(grid, t) + slotMs / 2);
    const dayOfYear =
      (Date.UTC(middle.getUTCFullYear(), middle.getUTCMonth(), middle.getUTCDate()) -
        Date.UTC(middle.getUTCFullYear(), 0, 1)) /
        86_400_000 +
      1;
    const declination = ((-23.44 * Math.PI) / 180) * Math.cos(((2 * Math.PI) / 365) * (dayOfYear + 10));
    const solarHours = middle.getUTCHours() + middle.getUTCMinutes() / 60 + site.longitude / 15;
    const hourAngle = ((solarHours - 12) * 15 * Math.PI) / 180;
    const latitude = (site.latitude * Math.PI) / 180;
    const sinElevation =
      Math.sin(latitude) * Math.sin(declination) +
      Math.cos(latitude) * Math.cos(declination) * Math.cos(hourAngle);
    return Math.round(site.peakKw * Math.max(0, sinElevation) * 0.85 * 1e4) / 1e4;
  });
}
