import { isVoltkitError } from '@voltkit/core/client';
import type { Logger } from 'pino';
import { baseLoadKw } from '../planner/grid.ts';
import { laneCount } from '../planner/hard-limit.ts';
import type { LoadProfile } from '../planner/load-profile.ts';
import { createPlan, parsePlanRequest, type Plan, type PlanRequestInput } from '../planner/plan.ts';
import { createSlotGrid } from '../planner/time-grid.ts';
import { planGridTreeFleet } from '../planner/tree-fleet-plan.ts';
import { parseGridTreePlanRequest } from '../planner/tree-plan.ts';
import { requestedTargetSocPercent } from '../planner/vehicle.ts';
import { commandedOnTime, replaceFutureCommands } from '../store/command-log.ts';
import { listGridEvents, loadGridSettings } from '../store/grid.ts';
import { savePlan } from '../store/plans.ts';
import { planOverview } from './dashboard.ts';
import type { ChargingPreferences } from '../store/preferences.ts';
import { loadPrices } from '../store/prices.ts';
import type { SqlClient, SqlQueryable } from '../store/sql-client.ts';
import { saveVehicleState } from '../store/vehicles.ts';
import { loadUnitTree, loadUnitVehicles, unitRootId, type UnitVehicle } from '../store/work-units.ts';
import { nextDeparture } from './departure.ts';
import { planToCommands } from './plan-to-commands.ts';
import type { ChargingState, VehicleGateway } from './vehicle-gateway.ts';

export interface PlanningOptions {
  readonly db: SqlClient;
  readonly gateway: VehicleGateway;
  readonly now: () => Date;
  readonly logger: Logger;
  readonly timeZone: string;
  readonly slotMinutes: 5 | 15 | 30 | 60;
  readonly priceSource: string;
  readonly profile: LoadProfile;
  /** How the prices were obtained (market feed, replayed history), kept with the plan. */
  readonly priceNote?: string;
  /** Charge-now overrides: vehicle ids that charge to their target at once, whatever the price. */
  readonly chargeNow?: ReadonlySet<string>;
  /** Smart charging switched off: the car charges as it would on its own (no plan, no commands). */
  readonly smartChargingOff?: ReadonlySet<string>;
  /** States the caller read (and stored) moments ago; those cars are not asked again. */
  readonly statesReadNow?: ReadonlyMap<string, ChargingState>;
  /**
   * A stored state younger than this (service clock) is planned with as it is, without asking the car:
   * polls and webhooks keep them fresh, and a re-plan of a whole feeder must not spend the API quota.
   * @default 0 (every car is read)
   */
  readonly reuseStatesYoungerThanMs?: number;
  /**
   * Which of these cars may be asked now (the vehicle API budget); the others are planned on their stored
   * state. Omitted: every car is asked.
   */
  readonly selectReads?: (vehicleIds: readonly string[]) => Promise<ReadonlySet<string>>;
  /** Hears each failed read (a 429 is recorded as a back-off). */
  readonly onReadFailure?: (vehicleId: string, error: unknown) => Promise<void>;
}

export interface PlanningOutcome {
  readonly planId: string;
  /** The work unit planned (`site`, or `node:<id>` of a top-level grid node). */
  readonly unit: string;
  readonly plan: Plan;
  /** Vehicles left out of the plan, with the reason (unplugged, grant not active, car not reachable, …). */
  readonly skipped: readonly { vehicleId: string; reason: string }[];
}

/** Longest horizon planned ahead: day-ahead prices rarely reach further. */
const MAX_HORIZON_MS = 48 * 3_600_000;
/** Assumed usable capacity when a car does not report one (a mid-size EV). */
const FALLBACK_CAPACITY_KWH = 50;

interface PlannedVehicle {
  readonly input: PlanRequestInput['vehicles'][number];
  readonly chargerPowerKw: number;
  readonly gridNodeId: string | null;
  /** Whether the state planned with shows the car charging. */
  readonly chargingNow: boolean;
  readonly chargeLimit?: number;
}

/** What a unit's plan was made of, for storing it and its commands. */
interface UnitPlan {
  readonly plan: Plan;
  /** Cars that may be on at once per slot under a hard limit; undefined on slot averages. */
  readonly lanes?: number[];
}

/**
 * Plans one work unit: the site (cars on no grid node, behind the site limit) or a top-level grid node
 * with everything below it (the tree planner, every node's limit held). Builds the planner request from
 * the cars' states, stored preferences, prices and grid, stores the unit's plan and replaces the unit's
 * cars' future commands with it; other units' plans and commands are left alone.
 */
export async function replanUnit(
  options: PlanningOptions,
  unit: string,
  reason: string,
): Promise<PlanningOutcome> {
  const { db, logger, slotMinutes } = options;
  const now = options.now();
  const slotMs = slotMinutes * 60_000;
  const horizonStart = Math.floor(now.getTime() / slotMs) * slotMs;
  const cars = await loadUnitVehicles<ChargingState>(db, unit);
  const { planned, skipped } = await vehiclesToPlan(options, cars, now, horizonStart);
  const horizonEnd = Math.max(
    horizonStart + slotMs,
    ...planned.map((vehicle) => Math.ceil(Number(vehicle.input.departure) / slotMs) * slotMs),
  );
  // Energy the chargers already drew in the slot under way, at the power each was planned with.
  const onTime = await commandedOnTime(
    db,
    new Date(horizonStart),
    now,
    planned.map((vehicle) => vehicle.input.id),
  );
  const drawnKwh = new Map(
    planned.map((vehicle) => [
      vehicle.input.id,
      (vehicle.chargerPowerKw * (onTime.get(vehicle.input.id) ?? 0)) / 3_600_000,
    ]),
  );
  const prices = await loadPrices(db, options.priceSource, new Date(horizonStart), new Date(horizonEnd));
  const tariff: PlanRequestInput['tariff'] = {
    type: 'dynamic',
    name: options.priceSource,
    prices: prices.map((slot) => ({
      startMs: slot.start.getTime(),
      endMs: slot.end.getTime(),
      pricePerKwh: slot.pricePerKwh,
    })),
    gapPolicy: 'previous-day',
    // With no price at all the planner refuses unless asked: the service plans energy only and
    // shows every cost as unknown (its own price-coverage check flags those slots).
    whenNoPriceKnown: 'energy-only',
  };
  const horizon = { start: horizonStart, end: horizonEnd, slotMinutes, timeZone: options.timeZone };
  const rootId = unitRootId(unit);
  const { plan, lanes } =
    rootId === undefined
      ? await planSite(options, { horizon, tariff, planned, drawnKwh })
      : await planTree(options, rootId, { horizon, tariff, planned, drawnKwh });

  const slotStarts = plan.slots.map((slot) => new Date(slot.start));
  const unitVehicleIds = cars.map((car) => car.id);
  const chargerPowerKw = new Map(planned.map((vehicle) => [vehicle.input.id, vehicle.chargerPowerKw]));
  const planId = await db.transaction(async (tx) => {
    const id = await savePlan(tx, {
      unit,
      reason,
      horizonStart: new Date(horizonStart),
      horizonEnd: new Date(horizonEnd),
      body: { plan, skipped, priceNote: options.priceNote ?? null },
      overview: planOverview(plan, (vehicleId) => chargerPowerKw.get(vehicleId)),
      vehiclePower: {
        firstSlotStart: new Date(plan.slots[0]?.start ?? horizonStart),
        slotMinutes: plan.slotMinutes,
        vehicles: plan.vehicles,
        unitVehicleIds,
      },
    });
    const byId = new Map(planned.map((vehicle) => [vehicle.input.id, vehicle]));
    const schedules = plan.vehicles.flatMap((vehiclePlan) => {
      const vehicle = byId.get(vehiclePlan.id);
      if (!vehicle) return [];
      return [
        {
          vehicleId: vehiclePlan.id,
          chargingPowerKw: vehicle.chargerPowerKw,
          energyPerSlotKwh: vehiclePlan.powerKw.map((kw) => (kw * slotMs) / 3_600_000),
          ...(vehicle.chargeLimit === undefined ? {} : { chargeLimit: vehicle.chargeLimit }),
        },
      ];
    });
    const commands = planToCommands(schedules, slotStarts, slotMs, now, lanes);
    // Earlier plans' commands still waiting are cancelled first: from here on none of them can be claimed,
    // so the switches read next are all that will have reached the cars.
    await cancelSuperseded(tx, id, now, reason, unitVehicleIds);
    const lastSwitch = await lastSwitches(
      tx,
      plan.vehicles.map((vehicle) => vehicle.id),
    );
    // Cars that must not charge now get an explicit stop: a plugged-in car charges on its own otherwise.
    // Not a car already stopped: its state shows it idle and nothing switched it on since (a re-plan of a
    // feeder would otherwise send every idle car a stop).
    const startsNow = new Set(
      commands
        .filter((command) => command.action === 'start_charge' && command.dueAt.getTime() <= now.getTime())
        .map((command) => command.vehicleId),
    );
    for (const vehiclePlan of plan.vehicles) {
      if (startsNow.has(vehiclePlan.id)) continue;
      const idle =
        byId.get(vehiclePlan.id)?.chargingNow === false && lastSwitch.get(vehiclePlan.id) !== 'start_charge';
      if (!idle) commands.push({ vehicleId: vehiclePlan.id, action: 'stop_charge', dueAt: now });
    }
    await replaceFutureCommands(tx, id, commands, now, unitVehicleIds);
    await explainCancellations(tx, id, reason, unitVehicleIds);
    return id;
  });
  logger.info(
    {
      planId,
      unit,
      reason,
      vehicles: plan.vehicles.length,
      skipped: skipped.length,
      cost: plan.summary.totalCost,
      savings: plan.summary.savings,
    },
    'unit planned',
  );
  return { planId, unit, plan, skipped };
}

/** Each car of the unit either planned (with its request) or skipped with the reason. */
async function vehiclesToPlan(
  options: PlanningOptions,
  cars: readonly UnitVehicle<ChargingState>[],
  now: Date,
  horizonStart: number,
): Promise<{ planned: PlannedVehicle[]; skipped: { vehicleId: string; reason: string }[] }> {
  const { db, gateway, logger, timeZone } = options;
  const skipped: { vehicleId: string; reason: string }[] = [];
  const planned: PlannedVehicle[] = [];
  const reuseMs = options.reuseStatesYoungerThanMs ?? 0;
  const fresh = (vehicle: UnitVehicle<ChargingState>) =>
    vehicle.known !== null && now.getTime() - vehicle.known.readAt.getTime() < reuseMs;
  const mayRead = await options.selectReads?.(
    cars
      .filter(
        (vehicle) =>
          vehicle.grantStatus === 'active' &&
          !options.smartChargingOff?.has(vehicle.id) &&
          !options.statesReadNow?.has(vehicle.id) &&
          !fresh(vehicle),
      )
      .map((vehicle) => vehicle.id),
  );
  for (const vehicle of cars) {
    if (vehicle.grantStatus !== 'active') {
      skipped.push({ vehicleId: vehicle.id, reason: `grant ${vehicle.grantStatus ?? 'missing'}` });
      continue;
    }
    if (options.smartChargingOff?.has(vehicle.id)) {
      skipped.push({ vehicleId: vehicle.id, reason: 'smart charging off' });
      continue;
    }
    let state: ChargingState;
    try {
      const readNow = options.statesReadNow?.get(vehicle.id);
      const known = vehicle.known;
      if (readNow) state = readNow;
      else if (known && fresh(vehicle)) state = known.state;
      else if (mayRead !== undefined && !mayRead.has(vehicle.id)) {
        // Not asked now (budget spent, backing off, or a fresh webhook state): the stored state stands.
        if (!known) {
          skipped.push({ vehicleId: vehicle.id, reason: 'not read yet: the vehicle API budget is spent' });
          continue;
        }
        state = known.state;
      } else {
        state = await gateway.readChargingState(vehicle.grantId, vehicle.id);
        await saveVehicleState(db, vehicle.id, state, now);
      }
    } catch (error) {
      await options.onReadFailure?.(vehicle.id, error);
      if (isVoltkitError(error) && error.type === 'COMPATIBILITY') {
        // A car without a traction battery (or one the API cannot charge): nothing to plan, nothing to warn.
        skipped.push({ vehicleId: vehicle.id, reason: 'not chargeable through the vehicle API' });
        continue;
      }
      logger.warn(
        { vehicleId: vehicle.id, err: error },
        'could not read the car; planning with its last known state',
      );
      if (!vehicle.known) {
        skipped.push({ vehicleId: vehicle.id, reason: 'car not reachable and no state known' });
        continue;
      }
      state = vehicle.known.state;
    }
    if (!state.pluggedIn) {
      skipped.push({ vehicleId: vehicle.id, reason: 'unplugged' });
      continue;
    }
    const { preferences } = vehicle;
    if (preferences.smartChargeOnlyAtHome && preferences.home !== null) {
      const where = await awayFromHome(gateway, vehicle, preferences.home, logger);
      if (where === 'away') {
        // Away from home the car charges as it would on its own: no plan, no commands.
        skipped.push({ vehicleId: vehicle.id, reason: 'away from home' });
        continue;
      }
    }
    const departure = nextDeparture(preferences, now.getTime(), timeZone) ?? now.getTime() + 24 * 3_600_000;
    const trip = tripInput(preferences, state);
    if (trip === 'no-range') {
      skipped.push({
        vehicleId: vehicle.id,
        reason: 'a trip needs the car’s range and SoC readings, and the car gave none: set targetSoc instead',
      });
      continue;
    }
    const targetPercent =
      trip === undefined ? preferences.targetSoc * 100 : tripTargetPercent(trip, state.chargeLimit);
    const chargeNow = options.chargeNow?.has(vehicle.id) ?? false;
    planned.push({
      chargerPowerKw: preferences.chargerPowerKw,
      gridNodeId: vehicle.gridNodeId,
      chargingNow: state.charging === 'CHARGING',
      // Set the car's own limit to the target as a backstop, where the car supports it and differs.
      ...(state.chargeLimit !== null &&
      Math.abs(state.chargeLimit - Math.max(targetPercent / 100, 0.5)) > 0.005
        ? { chargeLimit: Math.max(targetPercent / 100, 0.5) }
        : {}),
      input: {
        id: vehicle.id,
        // The SoC is measured now, so only the rest of the current slot is available to this plan.
        arrival: now.getTime(),
        socPercent: state.soc * 100,
        capacityKwh: vehicle.batteryCapacityKwh ?? FALLBACK_CAPACITY_KWH,
        ...(trip === undefined ? { targetSocPercent: targetPercent } : trip),
        departure: Math.min(departure, horizonStart + MAX_HORIZON_MS),
        chargeLimitPercent: Math.max(targetPercent, (state.chargeLimit ?? 1) * 100),
        maxPowerKw: preferences.chargerPowerKw,
        taper: { startSocPercent: 80, endPowerKw: Math.min(preferences.chargerPowerKw, 3.7) },
        minSocPercent: chargeNow ? targetPercent : preferences.minimumSoc * 100,
      },
    });
  }
  return { planned, skipped };
}

interface UnitRequestParts {
  readonly horizon: { start: number; end: number; slotMinutes: 5 | 15 | 30 | 60; timeZone: string };
  readonly tariff: PlanRequestInput['tariff'];
  readonly planned: readonly PlannedVehicle[];
  /** Energy each planned car drew in the slot under way (kWh). */
  readonly drawnKwh: ReadonlyMap<string, number>;
}

/** The site: cars on no node, behind the site's limit, base load and demand-response events. */
async function planSite(options: PlanningOptions, parts: UnitRequestParts): Promise<UnitPlan> {
  const { db } = options;
  const { horizon, planned } = parts;
  const slotMs = horizon.slotMinutes * 60_000;
  const grid = await loadGridSettings(db);
  const drawnKwh = [...parts.drawnKwh.values()].reduce((sum, kwh) => sum + kwh, 0);
  const events = await listGridEvents(db, new Date(horizon.start), new Date(horizon.end));
  const plan = createPlan(
    parsePlanRequest({
      horizon,
      tariff: parts.tariff,
      grid: {
        // A hard limit holds per minute, so energy drawn earlier in this slot does not shrink it.
        limitKw: slotLimits(
          grid.limitKw,
          horizon.start,
          horizon.end,
          slotMs,
          grid.limitMode === 'hard' ? 0 : drawnKwh,
        ),
        limitMode: grid.limitMode,
        baseLoad:
          grid.baseLoadKwhPerYear > 0
            ? { kind: 'bdew-h25', annualKwh: grid.baseLoadKwhPerYear }
            : { kind: 'none' },
        demandResponse: events.map((event) => ({
          id: event.id,
          start: event.startsAt,
          end: event.endsAt,
          limitKw: event.limitKw,
        })),
      },
      vehicles: planned.map((vehicle) => vehicle.input),
      objective: 'cost-then-peak',
    } satisfies PlanRequestInput),
    { profile: options.profile },
  );
  if (grid.limitMode !== 'hard') return { plan };
  const chargerKw = new Map(planned.map((vehicle) => [vehicle.input.id, vehicle.chargerPowerKw]));
  const strongest = (t: number) =>
    Math.max(
      0,
      ...plan.vehicles
        .filter((vehicle) => (vehicle.powerKw[t] ?? 0) > 0)
        .map((vehicle) => chargerKw.get(vehicle.id) ?? 0),
    );
  // Cars that may be on at once in each slot: ⌊headroom / strongest charger planned to charge in it⌋. The
  // planner sized each slot's energy for at least this many lanes, so laying the on-times over them never
  // exceeds the limit in any minute.
  return {
    plan,
    lanes: plan.slots.map((slot, t) => Math.max(0, laneCount(slot.limitKw - slot.baseKw, strongest(t)))),
  };
}

/**
 * A top-level node and everything below it, with the tree planner. Each node's limit in the slot under
 * way leaves out what the cars below it drew earlier in the slot (meters average the whole slot); base
 * loads follow the standard load profile scaled to each node's yearly consumption.
 */
async function planTree(
  options: PlanningOptions,
  rootId: string,
  parts: UnitRequestParts,
): Promise<UnitPlan> {
  const { horizon, planned } = parts;
  const nodes = await loadUnitTree(options.db, rootId);
  if (nodes.length === 0) throw new RangeError(`grid node "${rootId}" no longer exists`);
  const slots = createSlotGrid({
    startMs: horizon.start,
    endMs: horizon.end,
    slotMinutes: horizon.slotMinutes,
    timeZone: horizon.timeZone,
  });
  const T = slots.slotCount;
  // The profile scaled to 1 kWh a year, once; each node's base load is a multiple of it.
  const perKwhPerYear = nodes.some((node) => node.baseLoadKwhPerYear > 0)
    ? baseLoadKw({ kind: 'bdew-h25', annualKwh: 1 }, slots, options.profile)
    : undefined;
  const parentOf = new Map(nodes.map((node) => [node.id, node.parentId]));
  const drawnBelow = new Map<string, number>();
  for (const vehicle of planned) {
    const kwh = parts.drawnKwh.get(vehicle.input.id) ?? 0;
    if (kwh <= 0) continue;
    for (let id = vehicle.gridNodeId; id !== null && id !== undefined; id = parentOf.get(id) ?? null)
      drawnBelow.set(id, (drawnBelow.get(id) ?? 0) + kwh);
  }
  const request = parseGridTreePlanRequest({
    horizon,
    tariff: parts.tariff,
    gridTree: {
      nodes: nodes.map((node) => {
        const drawn = drawnBelow.get(node.id) ?? 0;
        return {
          id: node.id,
          kind: node.kind,
          ...(node.parentId === null ? {} : { parentId: node.parentId }),
          limitKw:
            drawn > 0
              ? Array.from({ length: T }, (_, t) =>
                  t === 0 ? Math.max(MIN_LIMIT_KW, node.limitKw - drawn / slots.slotHours) : node.limitKw,
                )
              : node.limitKw,
          baseLoadKw:
            perKwhPerYear && node.baseLoadKwhPerYear > 0
              ? Array.from(perKwhPerYear, (kw) => kw * node.baseLoadKwhPerYear)
              : 0,
        };
      }),
    },
    vehicles: planned.map((vehicle) => vehicle.input),
    vehicleNodes: Object.fromEntries(planned.map((vehicle) => [vehicle.input.id, vehicle.gridNodeId!])),
  });
  const plan = planGridTreeFleet(request);
  const hard = nodes.filter((node) => node.limitMode === 'hard').map((node) => node.id);
  if (hard.length === 0) return { plan };
  // Nested limits are planned on slot averages only; say so rather than pretend every minute holds.
  const warning = `grid node(s) ${hard.map((id) => `"${id}"`).join(', ')} ask for a hard limit; nested limits are planned on slot averages, so a minute may exceed them`;
  options.logger.warn({ rootId, nodes: hard }, warning);
  return { plan: { ...plan, warnings: [...plan.warnings, warning] } };
}

/** The planner takes limits above 0 only; a node whose slot is used up gets this instead. */
const MIN_LIMIT_KW = 1e-9;

/** The planner's trip input from the owner's trip and the car's range per percent; undefined = no trip. */
function tripInput(
  preferences: ChargingPreferences,
  state: ChargingState,
):
  | { trip: { distanceKm: number; reservePercent: number }; rangeKmPerPercent: number }
  | 'no-range'
  | undefined {
  if (preferences.trip === null) return undefined;
  const range = state.rangeKm;
  if (range === undefined || range === null || !(range > 0) || !(state.soc > 0.01)) return 'no-range';
  return { trip: preferences.trip, rangeKmPerPercent: range / (state.soc * 100) };
}

/** The SoC (%) a trip needs, capped at the car's own limit, for the backstop limit and charge-now. */
function tripTargetPercent(
  input: { trip: { distanceKm: number; reservePercent: number }; rangeKmPerPercent: number },
  chargeLimit: number | null,
): number {
  return Math.min(requestedTargetSocPercent(input), (chargeLimit ?? 1) * 100);
}

/**
 * The site limit per slot. In the slot already under way the chargers have drawn `drawnKwh` under the
 * previous plan, which this plan must leave out of the slot's budget: the meter averages the whole slot.
 */
function slotLimits(
  limitKw: number,
  horizonStart: number,
  horizonEnd: number,
  slotMs: number,
  drawnKwh: number,
): number[] {
  const count = Math.round((horizonEnd - horizonStart) / slotMs);
  const slotHours = slotMs / 3_600_000;
  return Array.from({ length: count }, (_, slot) =>
    slot === 0 ? Math.max(0, limitKw - drawnKwh / slotHours) : limitKw,
  );
}

/**
 * The new plan decides what every car does from now on, so commands of earlier plans still waiting
 * (missed while the service was down, or retrying) are cancelled too; every cancelled command says why.
 * A command the new plan wants again (same car, action and time) is the same row and stays pending.
 */
async function cancelSuperseded(
  tx: SqlQueryable,
  planId: string,
  now: Date,
  reason: string,
  unitVehicleIds: readonly string[],
): Promise<void> {
  await tx.query(
    `update commands set status = 'cancelled', next_attempt_at = null,
       last_error = case when last_error is null then $3 else last_error || '; ' || $3 end
     where vehicle_id = any($4::text[]) and status = 'pending' and plan_id <> $1 and due_at < $2`,
    [planId, now, `superseded by plan ${planId} (${reason})`, unitVehicleIds],
  );
}

/** Each car's last switch on or off that reached it or is on its way (confirmed or being sent). */
async function lastSwitches(tx: SqlQueryable, vehicleIds: readonly string[]): Promise<Map<string, string>> {
  if (vehicleIds.length === 0) return new Map();
  const rows = await tx.query<{ vehicle_id: string; action: string }>(LAST_SWITCH_SQL, [vehicleIds]);
  return new Map(rows.map((row) => [row.vehicle_id, row.action]));
}

export const LAST_SWITCH_SQL = `select distinct on (vehicle_id) vehicle_id, action from commands
  where vehicle_id = any($1::text[]) and status in ('confirmed', 'sending')
    and action in ('start_charge', 'stop_charge')
  order by vehicle_id, due_at desc`;

/** Every command the new plan cancelled says why; one it wants again starts afresh. */
async function explainCancellations(
  tx: SqlQueryable,
  planId: string,
  reason: string,
  unitVehicleIds: readonly string[],
): Promise<void> {
  await tx.query(
    `update commands set last_error = $2
     where vehicle_id = any($1::text[]) and status = 'cancelled' and last_error is null`,
    [unitVehicleIds, `not in plan ${planId} (${reason})`],
  );
  // A command cancelled earlier and wanted again by this plan starts afresh.
  await tx.query(
    `update commands set last_error = null where plan_id = $1 and status = 'pending' and attempts = 0`,
    [planId],
  );
}

/**
 * Whether the car is outside its home radius. Without the optional location scope (or when the car does
 * not answer) its position is unknown and it is planned as if at home.
 */
async function awayFromHome(
  gateway: VehicleGateway,
  vehicle: { readonly id: string; readonly grantId: string },
  home: { readonly latitude: number; readonly longitude: number; readonly radiusMeters: number },
  logger: Logger,
): Promise<'home' | 'away' | 'unknown'> {
  try {
    const position = await gateway.readLocation(vehicle.grantId, vehicle.id);
    return distanceMeters(position, home) <= home.radiusMeters ? 'home' : 'away';
  } catch (error) {
    logger.debug({ vehicleId: vehicle.id, err: error }, 'location unknown; planning as at home');
    return 'unknown';
  }
}

/** Great-circle distance (haversine), metres. */
export function distanceMeters(
  a: { readonly latitude: number; readonly longitude: number },
  b: { readonly latitude: number; readonly longitude: number },
): number {
  const radians = (degrees: number) => (degrees * Math.PI) / 180;
  const dLat = radians(b.latitude - a.latitude);
  const dLon = radians(b.longitude - a.longitude);
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(radians(a.latitude)) * Math.cos(radians(b.latitude)) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_000 * Math.asin(Math.min(1, Math.sqrt(h)));
}
