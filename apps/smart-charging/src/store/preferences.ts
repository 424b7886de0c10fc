import { z } from 'zod';
import type { SqlQueryable } from './sql-client.ts';

const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a time of day as "HH:MM" (24 h)');

export const WEEKDAYS = [
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
  'sunday',
] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** What an owner wants from smart charging for one vehicle. */
export const ChargingPreferencesSchema = z
  .object({
    /** Usual departure per weekday in the site's time zone; `null` = the car does not leave that day. */
    departures: z.object(
      Object.fromEntries(WEEKDAYS.map((day) => [day, clockTime.nullable()])) as Record<
        Weekday,
        z.ZodNullable<typeof clockTime>
      >,
    ),
    /** A one-off departure that overrides the weekly one it falls on. */
    oneOffDeparture: z.iso.datetime({ offset: true }).nullable(),
    /** State of charge to reach by departure, as a fraction. */
    targetSoc: z.number().min(0.05).max(1),
    /** Charged at once whatever the price (a safety floor for emergencies). */
    minimumSoc: z.number().min(0).max(1),
    /** Only manage charging at home; away from home the car charges as it would on its own. */
    smartChargeOnlyAtHome: z.boolean(),
    /** What the home charger (and car) can draw, kW. The Vehicle API cannot read it, so the owner says. */
    chargerPowerKw: z.number().positive().max(350),
    home: z
      .object({
        latitude: z.number().min(-90).max(90),
        longitude: z.number().min(-180).max(180),
        radiusMeters: z.number().positive().max(10_000),
      })
      .nullable(),
    /**
     * The drive after each departure, instead of a fixed target: the car charges to what the trip needs by
     * its own range readings (range ÷ SoC) plus the reserve, capped at its charge limit. Null = `targetSoc`.
     */
    trip: z
      .object({
        distanceKm: z.number().positive().max(2_000),
        /** SoC to keep on arrival (%), for detours and a cold morning. */
        reservePercent: z.number().min(0).max(100).default(10),
      })
      .strict()
      .nullable()
      .default(null),
  })
  .strict()
  .refine((preferences) => preferences.minimumSoc <= preferences.targetSoc, {
    message: 'minimumSoc must not exceed targetSoc',
    path: ['minimumSoc'],
  })
  .refine((preferences) => !preferences.smartChargeOnlyAtHome || preferences.home !== null, {
    message: 'home is required when smartChargeOnlyAtHome is true',
    path: ['home'],
  });

export type ChargingPreferences = z.infer<typeof ChargingPreferencesSchema>;

export const DEFAULT_PREFERENCES: ChargingPreferences = {
  departures: {
    monday: '07:30',
    tuesday: '07:30',
    wednesday: '07:30',
    thursday: '07:30',
    friday: '07:30',
    saturday: null,
    sunday: null,
  },
  oneOffDeparture: null,
  targetSoc: 0.8,
  minimumSoc: 0.2,
  smartChargeOnlyAtHome: false,
  chargerPowerKw: 11,
  home: null,
  trip: null,
};

export async function savePreferences(
  tx: SqlQueryable,
  vehicleId: string,
  preferences: z.input<typeof ChargingPreferencesSchema>,
): Promise<void> {
  // Parse again at the storage edge: whatever the caller, nothing invalid is ever written.
  const valid = ChargingPreferencesSchema.parse(preferences);
  await tx.query(
    `insert into preferences (vehicle_id, body, updated_at) values ($1, $2, now())
     on conflict (vehicle_id) do update set body = excluded.body, updated_at = now()`,
    [vehicleId, JSON.stringify(valid)],
  );
}

export async function loadPreferences(tx: SqlQueryable, vehicleId: string): Promise<ChargingPreferences> {
  const rows = await tx.query<{ body: unknown }>('select body from preferences where vehicle_id = $1', [
    vehicleId,
  ]);
  const stored = rows[0];
  if (!stored) return DEFAULT_PREFERENCES;
  return ChargingPreferencesSchema.parse(
    typeof stored.body === 'string' ? JSON.parse(stored.body) : stored.body,
  );
}
