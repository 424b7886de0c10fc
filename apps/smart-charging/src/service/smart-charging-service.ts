import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { VoltkitClient } from '@voltkit/core/client';
import type { LoadProfile } from '../planner/load-profile.ts';
import type { Plan } from '../planner/plan.ts';
import { startJobEngine, type JobEngine } from '../jobs/job-engine.ts';
import { startScheduler, type Scheduler } from '../jobs/scheduler.ts';
import { dueCommands, markCommandsOffered } from '../store/command-log.ts';
import { loadCurrentPlan, loadCurrentPlans, retireUnitPlans } from '../store/plans.ts';
import { loadPrices, savePrices } from '../store/prices.ts';
import type { SqlClient } from '../store/sql-client.ts';
import { saveVehicleState } from '../store/vehicles.ts';
import {
  listWorkUnits,
  loadUnitVehicleIds,
  loadUnitVehicles,
  unitOfNode,
  unitRootId,
  unitsOfVehicles,
} from '../store/work-units.ts';
import { combinePlans } from './combined-plan.ts';
import {
  createCommandExecutor,
  markGrantUnusable,
  type CommandExecutor,
  type CommandOutcome,
} from './command-executor.ts';
import type { ServiceConfig } from './config.ts';
import { createEnrollment, type ConnectMode, type Enrollment, type EnrollmentResult } from './enrollment.ts';
import { loadDashboard, type DashboardView } from './dashboard.ts';
import type { DashboardData } from './http/dashboard-data.ts';
import { fetchPrices, type PriceFeedOptions } from './price-feed.ts';
import { describePriceCoverage, type PriceCoverage } from './price-coverage.ts';
import { replanUnit, type PlanningOutcome } from './planning.ts';
import {
  DEFAULT_REQUEST_BUDGET,
  recordRateLimited,
  reportPollSelection,
  selectCarsToPoll,
  type PollBudgetOptions,
} from './poll-budget.ts';
import type { RequestBudgetLimits } from '../store/request-budget.ts';
import { createWebhookReceiver, type WebhookReceiver } from './webhook-receiver.ts';
import {
  classifyFailure,
  createVehicleGateway,
  type ChargingState,
  type VehicleGateway,
} from './vehicle-gateway.ts';

export interface StoredPlanBody {
  readonly plan: Plan;
  readonly skipped: readonly { vehicleId: string; reason: string }[];
  readonly priceNote: string | null;
}

export interface SmartChargingServiceOptions {
  readonly config: Pick<
    ServiceConfig,
    'timeZone' | 'slotMinutes' | 'priceSource' | 'priceFetchCron' | 'entsoeToken'
  >;
  readonly db: SqlClient;
  /** The HTTP API's connections (a pool of its own on PostgreSQL, see API_DATABASE_POOL_SIZE). @default db */
  readonly apiDb?: SqlClient;
  readonly client: VoltkitClient;
  readonly connectMode: ConnectMode;
  readonly profile: LoadProfile;
  readonly logger: Logger;
  /** The service's clock; the demo and tests pass the simulator's. @default () => new Date() */
  readonly now?: () => Date;
  readonly priceFeed?: Pick<PriceFeedOptions, 'origins' | 'fetch'>;
  /** How often `tick` reads the cars (commands run on every tick). @default 5 minutes */
  readonly monitorIntervalMs?: number;
  /** Re-plan when a car's SoC is this far (fraction) from where the plan expected it. @default 0.03 */
  readonly socDriftThreshold?: number;
  readonly currency?: string;
  /** Wall clock for credentials (Connect states, sessions), whatever the service's clock. */
  readonly authNow?: () => Date;
  /** This process among the instances sharing the database. @default host name, pid and a random tag */
  readonly instanceId?: string;
  /** The job engine for `start({ schedule: true })`. @default pg-boss on `db` */
  readonly jobEngine?: JobEngine;
  /**
   * The keys work is split by (one re-plan of a key at a time, cluster-wide).
   * @default each top-level grid node, and the site while cars hang on no node
   */
  readonly workUnits?: () => readonly string[] | Promise<readonly string[]>;
  /**
   * The vehicle API requests all instances on the database may make together (a token bucket on the
   * service's clock). @default 120 at once, 2 a minute (Smartcar's application limit)
   */
  readonly requestBudget?: RequestBudgetLimits;
  /** Receive the vehicle API's webhooks, signed with the application management token (a secret). */
  readonly webhooks?: { readonly managementToken: string; readonly replanSocDelta?: number };
  /**
   * A webhook pushed a change that calls for a re-plan (plug-in, unplug, a big SoC change).
   * @default one re-plan soon after, shared by the changes that arrive meanwhile
   */
  readonly onWebhookReplanNeeded?: (vehicleId: string, reason: string) => void;
}

/** Which units a re-plan covers: the given units, the units of the given cars or nodes; else every unit. */
export interface ReplanScope {
  readonly units?: readonly string[];
  readonly vehicleIds?: readonly string[];
  readonly nodeIds?: readonly string[];
}

/** The current plan of one unit or of all (combined); `id` and `reason` are the newest unit plan's. */
export interface CurrentPlan {
  readonly id: string;
  readonly reason: string;
  readonly createdAt: Date;
  readonly horizonStart: Date;
  readonly horizonEnd: Date;
  readonly body: StoredPlanBody;
  readonly units: readonly { unit: string; id: string; reason: string; createdAt: Date }[];
}

/** The units planned, and their plans as one. */
export interface FleetPlanningOutcome {
  /** The first unit's plan id (the only one while the store has no grid tree). */
  readonly planId: string;
  readonly plan: Plan;
  readonly skipped: PlanningOutcome['skipped'];
  readonly units: readonly PlanningOutcome[];
}

export interface SmartChargingService {
  readonly db: SqlClient;
  /** What the HTTP API queries: the same database as `db`, through connections the jobs never hold. */
  readonly apiDb: SqlClient;
  readonly enrollment: Enrollment;
  readonly gateway: VehicleGateway;
  /** The configured price source; prices imported through the API are stored under it too. */
  readonly priceSource: string;
  readonly timeZone: string;
  readonly instanceId: string;
  /** The webhook receiver, when a management token is configured. */
  readonly webhooks: WebhookReceiver | undefined;
  /**
   * Plans the scope's units now (default: every unit), one after another; each unit's runs are serialised
   * in this process and locked cluster-wide. A unit that fails does not stop the others: the error names it.
   */
  replan(reason: string, scope?: ReplanScope): Promise<FleetPlanningOutcome>;
  /** The current plan: one unit's, some units' or every unit's combined; undefined before the first. */
  currentPlan(unit?: string | readonly string[]): Promise<CurrentPlan | undefined>;
  /**
   * Which parts of [from, to) have no stored price of the configured source, and whether the last fetch
   * failed: what the API and the dashboard show in a banner. Defaults to the current plan's horizon.
   */
  priceCoverage(from?: Date, to?: Date): Promise<PriceCoverage>;
  /** Fetches prices for today and tomorrow from the configured source, then re-plans. */
  refreshPrices(): Promise<number>;
  /** Reads every car once; plug-in, unplug or SoC drift from the plan trigger a re-plan (of its unit). */
  monitorVehicles(): Promise<string[]>;
  runDueCommands(): Promise<CommandOutcome[]>;
  /** One scheduler step: monitor the cars, run due commands, re-plan if a command asked for it. */
  tick(): Promise<void>;
  /**
   * Re-plans after an input changed (preferences, grid, prices, enrollment). The change itself is already
   * stored, so a planning failure is reported, not thrown.
   */
  replanAfterChange(reason: string, scope?: ReplanScope): Promise<ReplanReport>;
  /** Completes a Connect callback from the browser holding `browserBinding`, reads the new cars, re-plans. */
  completeEnrollment(
    callbackUrl: string | URL,
    browserBinding: string | undefined,
  ): Promise<EnrollmentResult>;
  /** Charge-now override: the car charges to its target at once, whatever the price (kept across restarts). */
  setChargeNow(vehicleId: string, enabled: boolean): Promise<ReplanReport>;
  chargeNowVehicles(): readonly string[];
  /**
   * The car's smart-charging mode: `smart` (planned), `now` (charge now) or `off` (not managed: no plan,
   * no commands; the car charges as it would on its own). Kept across restarts; re-plans.
   */
  setMode(vehicleId: string, mode: SmartChargingMode): Promise<ReplanReport>;
  modeOf(vehicleId: string): SmartChargingMode;
  /** What the dashboard draws: an owner's cars, or the fleet as one series per unit (@default the fleet). */
  dashboard(view?: DashboardView): Promise<DashboardData>;
  /**
   * Fetches prices and plans. With `schedule` (the default) the work then runs as jobs of the engine,
   * shared with every other instance on the database; without, the caller drives `tick()` and commands
   * left in flight by a previous run are reconciled first.
   */
  start(options?: { schedule?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

export type SmartChargingMode = 'smart' | 'now' | 'off';

export type ReplanReport =
  | {
      readonly ok: true;
      readonly planId: string;
      /** Each unit planned, with its plan. */
      readonly plans: readonly { readonly unit: string; readonly planId: string }[];
      readonly skipped: PlanningOutcome['skipped'];
    }
  | { readonly ok: false; readonly error: string };

/** Settings key of the persisted charge-now overrides. */
const CHARGE_NOW_KEY = 'charge-now';
/** Settings key of the cars with smart charging switched off. */
const SMART_CHARGING_OFF_KEY = 'smart-charging-off';

function defaultInstanceId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

export function createSmartChargingService(options: SmartChargingServiceOptions): SmartChargingService {
  const { db, client, config, logger, profile } = options;
  const now = options.now ?? (() => new Date());
  const gateway = createVehicleGateway(client, now);
  const enrollment = createEnrollment({
    db,
    client,
    mode: options.connectMode,
    ...(options.authNow ? { authNow: options.authNow } : {}),
  });
  const chargeNow = new Set<string>();
  const smartChargingOff = new Set<string>();
  const instanceId = options.instanceId ?? defaultInstanceId();
  const workUnits = options.workUnits ?? (() => listWorkUnits(db));
  let scheduler: Scheduler | undefined;
  /** Cars whose command failed in a way that calls for a new plan of their unit. */
  const pendingReplans: { vehicleId: string; reason: string }[] = [];
  let priceNote: string | undefined;
  let priceFetchError: string | null = null;
  let loggedPriceProblem: string | null = null;
  let lastMonitorMs = Number.NEGATIVE_INFINITY;
  /** Each unit's latest planning run in this process: the next one of the unit waits for it. */
  const unitRuns = new Map<string, Promise<PlanningOutcome>>();
  const monitorIntervalMs = options.monitorIntervalMs ?? 5 * 60_000;
  // A state a webhook pushed within one poll interval is as fresh as a poll would make it.
  const pollBudget: PollBudgetOptions = {
    limits: options.requestBudget ?? DEFAULT_REQUEST_BUDGET,
    webhookFreshMs: monitorIntervalMs,
  };

  // Webhook changes arriving while a re-plan waits join it, instead of queueing one run each; only the
  // units of the cars they name are planned.
  let webhookReplan: { reasons: string[]; vehicleIds: Set<string>; done: Promise<unknown> } | undefined;
  function replanSoon(vehicleId: string, reason: string): void {
    if (webhookReplan) {
      webhookReplan.reasons.push(reason);
      webhookReplan.vehicleIds.add(vehicleId);
      return;
    }
    const reasons = [reason];
    const vehicleIds = new Set([vehicleId]);
    const done = Promise.allSettled([...unitRuns.values()]).then(() => {
      webhookReplan = undefined;
      return replanAfterChange(reasons.join('; '), { vehicleIds: [...vehicleIds] });
    });
    webhookReplan = { reasons, vehicleIds, done };
  }
  const webhooks = options.webhooks
    ? createWebhookReceiver({
        db,
        managementToken: options.webhooks.managementToken,
        now,
        logger,
        ...(options.webhooks.replanSocDelta === undefined
          ? {}
          : { replanSocDelta: options.webhooks.replanSocDelta }),
        onReplanNeeded: options.onWebhookReplanNeeded ?? replanSoon,
      })
    : undefined;

  const executor: CommandExecutor = createCommandExecutor({
    db,
    gateway,
    now,
    logger,
    instanceId,
    onReplanNeeded: (vehicleId, reason) =>
      pendingReplans.push({ vehicleId, reason: `command failed for ${vehicleId}: ${reason}` }),
  });

  function replanOne(
    unit: string,
    reason: string,
    statesReadNow?: ReadonlyMap<string, ChargingState>,
  ): Promise<PlanningOutcome> {
    // One planning run of a unit at a time; a caller arriving during a run waits for it and plans again.
    const run = (unitRuns.get(unit) ?? Promise.resolve())
      .catch(() => undefined)
      .then(() =>
        // One planning run of the unit at a time across every instance on the database.
        db.withLock(`replan:${unit}`, async () => {
          // Another instance may have changed an override since this one last looked: the database decides.
          await loadChargeNow();
          return replanUnit(
            {
              db,
              gateway,
              now,
              logger,
              timeZone: config.timeZone,
              slotMinutes: config.slotMinutes,
              priceSource: config.priceSource,
              profile,
              chargeNow,
              smartChargingOff,
              // A feeder's cars are kept fresh by its polls: its re-plan reads none of them again.
              ...(unitRootId(unit) === undefined ? {} : { reuseStatesYoungerThanMs: monitorIntervalMs }),
              ...(priceNote === undefined ? {} : { priceNote }),
              ...(statesReadNow === undefined ? {} : { statesReadNow }),
              selectReads: async (vehicleIds) => {
                const selection = await selectCarsToPoll(db, vehicleIds, now(), pollBudget);
                reportPollSelection(logger, selection, 'replan');
                return new Set(selection.granted);
              },
              onReadFailure: async (vehicleId, error) => {
                await recordRateLimited(db, vehicleId, error, now());
              },
            },
            unit,
            reason,
          );
        }),
      );
    unitRuns.set(unit, run);
    void run
      .finally(() => {
        if (unitRuns.get(unit) === run) unitRuns.delete(unit);
      })
      .catch(() => undefined);
    return run;
  }

  async function unitsIn(scope: ReplanScope): Promise<string[]> {
    const existing = await workUnits();
    // A unit whose top node was deleted or moved below another has no plan of its own any more.
    await retireUnitPlans(db, existing);
    if (scope.units !== undefined) return scope.units.filter((unit) => existing.includes(unit));
    if (scope.vehicleIds === undefined && scope.nodeIds === undefined) return [...existing];
    const units = new Set(await unitsOfVehicles(db, scope.vehicleIds ?? []));
    for (const nodeId of scope.nodeIds ?? []) {
      const unit = await unitOfNode(db, nodeId);
      if (unit !== undefined) units.add(unit);
    }
    return [...units].sort();
  }

  async function replan(
    reason: string,
    scope: ReplanScope = {},
    statesReadNow?: ReadonlyMap<string, ChargingState>,
  ): Promise<FleetPlanningOutcome> {
    const outcomes: PlanningOutcome[] = [];
    const failures: string[] = [];
    for (const unit of await unitsIn(scope)) {
      try {
        outcomes.push(await replanOne(unit, reason, statesReadNow));
      } catch (error) {
        logger.error({ err: error, unit, reason }, 'planning a unit failed');
        failures.push(`${unit}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (failures.length > 0) throw new Error(`planning failed for ${failures.join('; ')}`);
    const plan = combinePlans(outcomes.map((outcome) => outcome.plan));
    const first = outcomes[0];
    if (plan === undefined || first === undefined) throw new Error('nothing to plan: no work unit in scope');
    await reportPriceCoverage(plan).catch((error: unknown) => {
      logger.error({ err: error }, 'could not check price coverage');
    });
    return {
      planId: first.planId,
      plan,
      skipped: outcomes.flatMap((outcome) => outcome.skipped),
      units: outcomes,
    };
  }

  async function currentPlan(unit?: string | readonly string[]): Promise<CurrentPlan | undefined> {
    const units = typeof unit === 'string' ? [unit] : unit;
    const stored =
      units === undefined
        ? await loadCurrentPlans<StoredPlanBody>(db)
        : (await Promise.all(units.map((one) => loadCurrentPlan<StoredPlanBody>(db, one)))).filter(
            (entry) => entry !== undefined,
          );
    const plan = combinePlans(stored.map((entry) => entry.body.plan));
    if (plan === undefined || stored.length === 0) return undefined;
    const newest = stored.reduce((a, b) => (b.createdAt > a.createdAt ? b : a));
    return {
      id: newest.id,
      reason: newest.reason,
      createdAt: newest.createdAt,
      horizonStart: new Date(Math.min(...stored.map((entry) => entry.horizonStart.getTime()))),
      horizonEnd: new Date(Math.max(...stored.map((entry) => entry.horizonEnd.getTime()))),
      body: {
        plan,
        skipped: stored.flatMap((entry) => entry.body.skipped),
        priceNote: newest.body.priceNote,
      },
      units: stored.map((entry) => ({
        unit: entry.unit,
        id: entry.id,
        reason: entry.reason,
        createdAt: entry.createdAt,
      })),
    };
  }

  async function refreshPrices(): Promise<number> {
    const from = new Date(Math.floor(now().getTime() / 86_400_000) * 86_400_000);
    const to = new Date(from.getTime() + 2 * 86_400_000);
    let fetched;
    try {
      fetched = await fetchPrices(
        {
          source: config.priceSource,
          timeZone: config.timeZone,
          ...(config.entsoeToken ? { entsoeToken: config.entsoeToken } : {}),
          ...options.priceFeed,
        },
        from,
        to,
      );
    } catch (error) {
      priceFetchError = error instanceof Error ? error.message : String(error);
      throw error;
    }
    // Instances starting together fetch the same prices: one import at a time, or both insert one slot.
    await db.withLock(`prices:${config.priceSource}`, () =>
      db.transaction((tx) => savePrices(tx, config.priceSource, fetched.slots)),
    );
    priceFetchError = null;
    priceNote = fetched.note;
    logger.info(
      { source: config.priceSource, slots: fetched.slots.length, note: fetched.note },
      'prices stored',
    );
    return fetched.slots.length;
  }

  async function priceCoverage(from?: Date, to?: Date): Promise<PriceCoverage> {
    if (from !== undefined && to !== undefined) return coverageOf(from, to);
    const window = planWindow((await currentPlan())?.body.plan);
    return coverageOf(from ?? window.from, to ?? window.to);
  }

  /** The plan's horizon; without a plan, the day from the current slot. */
  function planWindow(plan: Plan | undefined): { from: Date; to: Date } {
    const slotMs = config.slotMinutes * 60_000;
    const first = plan?.slots[0];
    const last = plan?.slots.at(-1);
    const from = new Date(first ? Date.parse(first.start) : Math.floor(now().getTime() / slotMs) * slotMs);
    const to = new Date(last ? Date.parse(last.start) + slotMs : from.getTime() + 24 * 3_600_000);
    return { from, to };
  }

  async function coverageOf(windowFrom: Date, windowTo: Date): Promise<PriceCoverage> {
    const slots = await loadPrices(db, config.priceSource, windowFrom, windowTo);
    return describePriceCoverage({
      source: config.priceSource,
      slots,
      from: windowFrom,
      to: windowTo,
      fetchError: priceFetchError,
    });
  }

  /**
   * Says loudly when prices are missing: an error when the fetch failed or the next hours have no price
   * (a healthy day-ahead feed always covers them), a warning when only later hours are not yet published.
   * Each distinct problem is logged once, not at every re-plan.
   */
  async function reportPriceCoverage(plan: Plan): Promise<void> {
    const window = planWindow(plan);
    const coverage = await coverageOf(window.from, window.to);
    if (coverage.problem === loggedPriceProblem) return;
    loggedPriceProblem = coverage.problem;
    if (coverage.problem === null) {
      logger.info({ source: coverage.source }, 'prices cover the plan again');
      return;
    }
    const soonMs = now().getTime() + PRICES_EXPECTED_AHEAD_MS;
    const urgent = coverage.fetchError !== null || coverage.gaps.some((gap) => gap.start.getTime() < soonMs);
    const details = {
      source: coverage.source,
      missing: coverage.gaps.map((gap) => ({ start: gap.start.toISOString(), end: gap.end.toISOString() })),
    };
    if (urgent) logger.error(details, coverage.problem);
    else logger.warn(details, coverage.problem);
  }

  async function monitorVehicles(): Promise<string[]> {
    const reasons: string[] = [];
    for (const unit of await workUnits()) reasons.push(...(await readUnit(unit)).reasons);
    return reasons;
  }

  /** Reads the unit's cars once and says which changes call for a new plan; the states are kept for it. */
  async function readUnit(unit: string): Promise<{ reasons: string[]; states: Map<string, ChargingState> }> {
    const reasons: string[] = [];
    const states = new Map<string, ChargingState>();
    const current = await loadCurrentPlan<StoredPlanBody>(db, unit);
    const planned = new Map((current?.body.plan.vehicles ?? []).map((vehicle) => [vehicle.id, vehicle]));
    const threshold = options.socDriftThreshold ?? 0.03;
    const active = (await loadUnitVehicles<ChargingState>(db, unit)).filter(
      (vehicle) => vehicle.grantStatus === 'active',
    );
    // Only the cars the shared budget grants are asked; the others keep their stored state this round.
    const selection = await selectCarsToPoll(
      db,
      active.map((vehicle) => vehicle.id),
      now(),
      pollBudget,
    );
    reportPollSelection(logger, selection, `poll ${unit}`);
    const granted = new Set(selection.granted);
    let appLimited = false;
    for (const vehicle of active) {
      if (!granted.has(vehicle.id) || appLimited) continue;
      let state: ChargingState;
      try {
        state = await gateway.readChargingState(vehicle.grantId, vehicle.id);
      } catch (error) {
        // Over the application's limit, every further request this round would be refused too.
        if ((await recordRateLimited(db, vehicle.id, error, now())) === 'app') {
          appLimited = true;
          logger.warn(
            { vehicleId: vehicle.id, unread: granted.size },
            'the vehicle API refused the application (rate limit): the rest of this round waits for its Retry-After',
          );
        }
        const verdict = classifyFailure(error);
        if (verdict.kind === 'reconnect') {
          await markGrantUnusable(db, vehicle.grantId, verdict.reason, now());
          reasons.push(`grant of ${vehicle.id} no longer works (${verdict.reason})`);
        }
        logger.debug({ vehicleId: vehicle.id, err: error }, 'monitor could not read the car');
        continue;
      }
      await saveVehicleState(db, vehicle.id, state, now());
      states.set(vehicle.id, state);
      const before = vehicle.known?.state;
      if (before && before.pluggedIn !== state.pluggedIn)
        reasons.push(`${vehicle.id} ${state.pluggedIn ? 'plugged in' : 'unplugged'}`);
      const vehiclePlan = planned.get(vehicle.id);
      const expected = current ? expectedSoc(current.body.plan, vehicle.id, now().getTime()) : undefined;
      if (vehiclePlan && expected !== undefined && state.pluggedIn) {
        // Where the car ends up if the rest of the plan runs as planned from its actual SoC.
        const projected = state.soc + (vehiclePlan.finalSocPercent / 100 - expected);
        if (projected < vehiclePlan.targetSocPercent / 100 - 0.001) {
          reasons.push(`${vehicle.id} would miss its target (projected ${(projected * 100).toFixed(1)} %)`);
        } else if (Math.abs(state.soc - expected) > threshold) {
          reasons.push(
            `${vehicle.id} SoC ${(state.soc * 100).toFixed(0)} % drifted from planned ${(expected * 100).toFixed(0)} %`,
          );
        }
      }
    }
    return { reasons, states };
  }

  /** Re-plans the units of the cars whose commands asked for it since the last look. */
  async function replanAfterFailures(): Promise<boolean> {
    const failures = pendingReplans.splice(0);
    if (failures.length === 0) return false;
    await replan(failures.map((failure) => failure.reason).join('; '), {
      vehicleIds: [...new Set(failures.map((failure) => failure.vehicleId))],
    });
    return true;
  }

  /**
   * Whether this instance reads the cars now: at most once per monitor interval of the service's clock,
   * cluster-wide (the claim is one conditional write).
   */
  async function claimMonitor(unit: string): Promise<boolean> {
    const at = now();
    const rows = await db.query(
      `insert into settings (key, body) values ($1, to_jsonb($2::text))
       on conflict (key) do update set body = excluded.body, updated_at = now()
       where (settings.body #>> '{}')::timestamptz <= $3::timestamptz
       returning key`,
      [`monitored:${unit}`, at.toISOString(), new Date(at.getTime() - monitorIntervalMs).toISOString()],
    );
    return rows.length > 0;
  }

  async function startJobs(): Promise<void> {
    const engine = options.jobEngine ?? (await startJobEngine({ db, logger, instanceId }));
    scheduler = await startScheduler({
      engine,
      logger,
      units: workUnits,
      priceFetchCron: config.priceFetchCron,
      timeZone: config.timeZone,
      work: {
        now,
        claimPoll: claimMonitor,
        async poll(unit) {
          const { reasons, states } = await readUnit(unit);
          if (reasons.length > 0) await replan(reasons.join('; '), { units: [unit] }, states);
          await replanAfterFailures();
        },
        async dueCommands({ unit }) {
          if (unit === undefined) return dueCommands(db, now());
          return dueCommands(db, now(), { vehicleIds: await loadUnitVehicleIds(db, unit) });
        },
        async markOffered(commands) {
          await markCommandsOffered(db, commands);
        },
        async runCommand(id, takeOver) {
          await executor.runCommand(id, { takeOver });
        },
        async abandonCommand(id, reason) {
          await executor.abandon(id, reason);
        },
        async afterCommands() {
          await replanAfterFailures();
        },
        async refreshPrices() {
          await refreshPrices();
        },
        async replanUnit(unit, reason) {
          await replan(reason, { units: [unit] });
        },
      },
    });
    logger.info({ instanceId, engine: 'pg-boss', backend: db.backend }, 'jobs running');
  }

  async function tick(): Promise<void> {
    // Views of the overrides follow changes made through other instances within a minute.
    await loadChargeNow();
    if (now().getTime() - lastMonitorMs >= monitorIntervalMs) {
      lastMonitorMs = now().getTime();
      for (const unit of await workUnits()) {
        const { reasons, states } = await readUnit(unit);
        // Plan first, then act: commands a new plan makes due right now must not wait for the next tick,
        // or cars run a minute past what the plan (and the grid limit) allowed. The plan reuses the
        // states just read instead of asking every car again.
        if (reasons.length > 0) await replan(reasons.join('; '), { units: [unit] }, states);
      }
    }
    await executor.runDueCommands();
    if (await replanAfterFailures()) await executor.runDueCommands();
  }

  function dashboard(view: DashboardView = { kind: 'fleet' }): Promise<DashboardData> {
    return loadDashboard(
      {
        // A request's read: the API's own pool, so a dashboard never waits behind the jobs' connections.
        db: options.apiDb ?? db,
        now,
        timeZone: config.timeZone,
        currency: options.currency ?? 'EUR',
        planWindow,
        coverageOf,
      },
      view,
    );
  }

  async function replanAfterChange(reason: string, scope: ReplanScope = {}): Promise<ReplanReport> {
    try {
      const outcome = await replan(reason, scope);
      return {
        ok: true,
        planId: outcome.planId,
        plans: outcome.units.map((unit) => ({ unit: unit.unit, planId: unit.planId })),
        skipped: outcome.skipped,
      };
    } catch (error) {
      logger.error({ err: error, reason }, 'planning failed');
      return { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
  }

  async function loadIdSet(key: string, into: Set<string>): Promise<void> {
    const rows = await db.query<{ body: unknown }>('select body from settings where key = $1', [key]);
    const raw = rows[0]?.body;
    const stored: unknown = typeof raw === 'string' ? JSON.parse(raw) : raw;
    into.clear();
    if (Array.isArray(stored)) for (const id of stored) if (typeof id === 'string') into.add(id);
  }

  async function loadChargeNow(): Promise<void> {
    await loadIdSet(CHARGE_NOW_KEY, chargeNow);
    await loadIdSet(SMART_CHARGING_OFF_KEY, smartChargingOff);
  }

  /** Read-modify-write of the overrides under one lock, so two instances' changes never overwrite each other. */
  function changeOverrides(change: () => Promise<void>): Promise<void> {
    return db.withLock('overrides', async () => {
      await loadChargeNow();
      await change();
    });
  }

  async function saveIdSet(key: string, ids: ReadonlySet<string>): Promise<void> {
    await db.query(
      `insert into settings (key, body) values ($1, $2)
       on conflict (key) do update set body = excluded.body, updated_at = now()`,
      [key, JSON.stringify([...ids].sort())],
    );
  }

  return {
    db,
    apiDb: options.apiDb ?? db,
    enrollment,
    gateway,
    priceSource: config.priceSource,
    timeZone: config.timeZone,
    instanceId,
    webhooks,
    replan,
    currentPlan,
    refreshPrices,
    priceCoverage,
    monitorVehicles,
    runDueCommands: () => executor.runDueCommands(),
    tick,
    async setChargeNow(vehicleId, enabled) {
      await changeOverrides(async () => {
        if (enabled) chargeNow.add(vehicleId);
        else chargeNow.delete(vehicleId);
        // Charge now is a mode of smart charging: it switches smart charging back on.
        if (enabled && smartChargingOff.delete(vehicleId))
          await saveIdSet(SMART_CHARGING_OFF_KEY, smartChargingOff);
        await saveIdSet(CHARGE_NOW_KEY, chargeNow);
      });
      return replanAfterChange(`charge now ${enabled ? 'on' : 'off'} for ${vehicleId}`, {
        vehicleIds: [vehicleId],
      });
    },
    chargeNowVehicles: () => [...chargeNow],
    async setMode(vehicleId, mode) {
      await changeOverrides(async () => {
        if (mode === 'now') chargeNow.add(vehicleId);
        else chargeNow.delete(vehicleId);
        if (mode === 'off') smartChargingOff.add(vehicleId);
        else smartChargingOff.delete(vehicleId);
        await saveIdSet(CHARGE_NOW_KEY, chargeNow);
        await saveIdSet(SMART_CHARGING_OFF_KEY, smartChargingOff);
      });
      return replanAfterChange(`smart charging mode ${mode} for ${vehicleId}`, { vehicleIds: [vehicleId] });
    },
    modeOf: (vehicleId) =>
      smartChargingOff.has(vehicleId) ? 'off' : chargeNow.has(vehicleId) ? 'now' : 'smart',
    replanAfterChange,
    async completeEnrollment(callbackUrl, browserBinding) {
      const result = await enrollment.complete(callbackUrl, browserBinding);
      const report = await replanAfterChange(
        `enrolled ${result.vehicles.map((vehicle) => vehicle.id).join(', ') || 'no vehicles'}`,
        result.vehicles.length > 0 ? { vehicleIds: result.vehicles.map((vehicle) => vehicle.id) } : {},
      );
      if (!report.ok) logger.warn({ error: report.error }, 'planning after enrollment failed');
      return result;
    },
    dashboard,
    async start({ schedule = true } = {}) {
      await loadChargeNow();
      // With jobs, a command left in flight is its job's: it comes back to some instance when its
      // instance is gone. Reconciling here would also catch live instances' commands mid-send.
      if (!schedule) {
        const reconciled = await executor.reconcile();
        if (reconciled.length > 0)
          logger.info({ commands: reconciled.length }, 'reconciled commands left in flight');
      }
      try {
        await refreshPrices();
      } catch (error) {
        logger.error({ err: error }, 'could not fetch prices; planning with what is stored');
      }
      const planned = await replanAfterChange('service started');
      if (!planned.ok)
        logger.warn({ error: planned.error }, 'no plan yet; the next change or tick plans again');
      if (schedule) await startJobs();
    },
    async stop() {
      await scheduler?.stop();
      scheduler = undefined;
      await webhookReplan?.done.catch(() => undefined);
      await Promise.allSettled([...unitRuns.values()]);
    },
  };
}

/** A healthy day-ahead feed publishes at least this far ahead (tomorrow's prices arrive by 13:00 CET). */
const PRICES_EXPECTED_AHEAD_MS = 6 * 3_600_000;

/** SoC (fraction) the plan expects for a vehicle at an instant, if the instant is inside the plan. */
function expectedSoc(plan: Plan, vehicleId: string, atMs: number): number | undefined {
  const vehicle = plan.vehicles.find((candidate) => candidate.id === vehicleId);
  if (!vehicle || plan.slots.length === 0) return undefined;
  const slotMs = plan.slotMinutes * 60_000;
  const startMs = Date.parse(plan.slots[0]!.start);
  const position = (atMs - startMs) / slotMs;
  if (position < 0 || position > plan.slots.length) return undefined;
  const index = Math.floor(position);
  const from = vehicle.socPercent[index] ?? vehicle.socPercent.at(-1)!;
  const to = vehicle.socPercent[index + 1] ?? from;
  return (from + (to - from) * (position - index)) / 100;
}
