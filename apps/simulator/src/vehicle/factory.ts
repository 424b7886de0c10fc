import { createHash, randomUUID } from 'node:crypto';
import { latestYear, type ModelSpec, type Region } from '../catalog/brands.ts';
import type { ForcedError, VehicleRecord } from '../state/records.ts';

// Letters a VIN may hold (no I, O, Q).
const VIN_ALPHABET = 'ABCDEFGHJKLMNPRSTUVWXYZ0123456789';
const HOME: Record<Region, { latitude: number; longitude: number }> = {
  US: { latitude: 37.7749, longitude: -122.4194 },
  CA: { latitude: 43.6532, longitude: -79.3832 },
  EUROPE: { latitude: 48.8566, longitude: 2.3522 },
};

/** Deterministic pseudo-random numbers from a seed string, so one vehicle id always gives one car. */
function seededRandom(seed: string): () => number {
  let counter = 0;
  return () => {
    const digest = createHash('sha256').update(`${seed}:${counter++}`).digest();
    return digest.readUInt32BE(0) / 0x1_0000_0000;
  };
}

/** A 17-character VIN in the test-vehicle range Smartcar uses (`0SC…`), unique per vehicle id. */
export function testVin(vehicleId: string): string {
  const random = seededRandom(`vin:${vehicleId}`);
  let vin = '0SC';
  while (vin.length < 17) vin += VIN_ALPHABET[Math.floor(random() * VIN_ALPHABET.length)] ?? 'X';
  return vin;
}

export interface NewVehicleOptions {
  readonly accountId: string;
  readonly spec: ModelSpec;
  readonly region: Region;
  readonly now: number;
  readonly forcedError?: ForcedError | null;
  readonly id?: string;
  readonly year?: number;
  /** Parked on its charger, not drawing power (an EV or PHEV only). */
  readonly pluggedIn?: boolean;
}

/** A plausible car as its owner left it: parked near home, locked, partly charged/fuelled, unplugged. */
export function createVehicleRecord(options: NewVehicleOptions): VehicleRecord {
  const id = options.id ?? randomUUID();
  const random = seededRandom(id);
  const { spec, now } = options;
  const home = HOME[options.region];
  const odometerKm = Math.round(8_000 + random() * 40_000);
  const electric = spec.batteryKwh !== null;
  const tireKpa = spec.tankLiters !== null && spec.tankLiters > 80 ? 250 : 240;
  const currentYear = new Date(now).getUTCFullYear();
  const year = options.year ?? latestYear(spec, currentYear);
  const plugged = electric && options.pluggedIn === true;
  return {
    id,
    accountId: options.accountId,
    vin: testVin(id),
    make: spec.make,
    model: spec.model,
    year,
    forcedError: options.forcedError ?? null,
    state: {
      soc: electric ? Math.round((0.35 + random() * 0.4) * 100) / 100 : null,
      fuelLiters:
        spec.tankLiters === null ? null : Math.round(spec.tankLiters * (0.3 + random() * 0.6) * 10) / 10,
      odometerKm,
      latitude: home.latitude + (random() - 0.5) * 0.1,
      longitude: home.longitude + (random() - 0.5) * 0.1,
      headingDeg: Math.floor(random() * 360),
      pluggedIn: plugged,
      chargeEnabled: !plugged,
      chargeLimit: electric ? 0.8 : 1,
      stationKw: 7.4,
      chargeState: 'NOT_CHARGING',
      isLocked: true,
      doors: { frontLeft: 'CLOSED', frontRight: 'CLOSED', backLeft: 'CLOSED', backRight: 'CLOSED' },
      windows: { frontLeft: 'CLOSED', frontRight: 'CLOSED', backLeft: 'CLOSED', backRight: 'CLOSED' },
      sunroof: 'CLOSED',
      trunk: 'CLOSED',
      hood: 'CLOSED',
      chargingPort: plugged ? 'OPEN' : 'CLOSED',
      tiresKpa: {
        frontLeft: tireKpa,
        frontRight: tireKpa - 1,
        backLeft: tireKpa - 2,
        backRight: tireKpa - 1,
      },
      oilLife: spec.powertrain === 'BEV' ? 1 : Math.round((0.4 + random() * 0.5) * 100) / 100,
      asleep: false,
      unreachable: false,
      drive: null,
      destination: null,
      dtcs: [],
      serviceRecords: [
        {
          serviceId: 1000 + Math.floor(random() * 9000),
          serviceDate: new Date(now - 200 * 86_400_000).toISOString(),
          odometerKm: Math.round(odometerKm * 0.7),
          tasks: ['Oil and filter change', 'Tire rotation'],
          totalCost: 189.5,
          currency: options.region === 'EUROPE' ? 'EUR' : 'USD',
        },
        {
          serviceId: 1000 + Math.floor(random() * 9000),
          serviceDate: new Date(now - 40 * 86_400_000).toISOString(),
          odometerKm: Math.round(odometerKm * 0.95),
          tasks: ['Multi-point inspection'],
          totalCost: 0,
          currency: options.region === 'EUROPE' ? 'EUR' : 'USD',
        },
      ],
      recordedAt: now,
      updatedAt: now,
    },
  };
}
