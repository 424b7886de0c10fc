/** Fixture loading for tests (tests may read files; the planner itself never does). */
import { readFileSync } from 'node:fs';
import { bdewH25Csv } from '@voltkit/data';
import { parseBdewProfileCsv, type LoadProfile } from '../load-profile.ts';
import { createRandom } from './random-fleet.ts';
import type { VehicleInput } from '../vehicle.ts';

export function fixture(name: string): string {
  return readFileSync(new URL(`../__fixtures__/${name}`, import.meta.url), 'utf8');
}

let profile: LoadProfile | undefined;
export function h25Profile(): LoadProfile {
  profile ??= parseBdewProfileCsv(readFileSync(bdewH25Csv, 'utf8'));
  return profile;
}

/** Seeded cars plugged in on `date` (local) in the evening/night, some with taper, min SoC, price caps. */
export function randomVehicles(
  seed: number,
  count: number,
  date: string,
  options: { extras?: boolean } = {},
): VehicleInput[] {
  const random = createRandom(seed);
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const next = new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
  const pad = (n: number) => String(n).padStart(2, '0');
  return Array.from({ length: count }, (_, k) => {
    const arrivalHour = Math.floor(random() * 20);
    const departureHour = Math.min(23, arrivalHour + 3 + Math.floor(random() * 12));
    const capacity = [40, 58, 77, 100][Math.floor(random() * 4)]!;
    const soc = Math.round(random() * 60);
    const vehicle: VehicleInput = {
      id: `car-${k + 1}`,
      socPercent: soc,
      capacityKwh: capacity,
      targetSocPercent: Math.min(100, soc + 10 + Math.round(random() * 60)),
      arrival: `${date}T${pad(arrivalHour)}:${pad(Math.floor(random() * 4) * 15)}`,
      departure:
        random() < 0.3
          ? `${next}T00:00`
          : `${date}T${pad(departureHour)}:${pad(Math.floor(random() * 4) * 15)}`,
      maxPowerKw: [3.7, 7.4, 11, 22][Math.floor(random() * 4)]!,
      efficiency: 0.88 + random() * 0.1,
    };
    if (options.extras) {
      if (random() < 0.3)
        vehicle.taper = { startSocPercent: 70 + Math.round(random() * 15), endPowerKw: 1.5 };
      if (random() < 0.2) vehicle.minSocPercent = Math.min(vehicle.targetSocPercent ?? 100, soc + 10);
      if (random() < 0.2) vehicle.opportunisticPriceCap = 0.05 + random() * 0.15;
      if (random() < 0.2) vehicle.chargeLimitPercent = 90;
    }
    return vehicle;
  });
}
