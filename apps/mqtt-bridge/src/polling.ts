import type { PollingConfig } from './config.ts';
import { entitiesFor } from './entities.ts';
import type { Activity } from './entities.ts';
import type { Logger } from './logger.ts';
import { refreshPlan } from './plan-handoff.ts';
import { backoffMs, nextPollDelayMs } from './poll-policy.ts';
import type { StatePublishing } from './state-publishing.ts';
import type { ApiHealth } from './api-health.ts';
import { applyReading } from './vehicle-runtime.ts';
import type { VehicleRuntime } from './vehicle-runtime.ts';
import { isVehicleSourceError, VEHICLE_FIELDS, VehicleSourceError } from './vehicle-source.ts';
import type { ChargePlanSource, VehicleField, VehicleSource } from './vehicle-source.ts';

/** A full read of every supported field at least this often, so slow-moving values (tires, oil) stay fresh. */
const FULL_READ_EVERY_MS = 6 * 3600_000;

const FIELDS_BY_ACTIVITY: Record<Activity, readonly VehicleField[]> = {
  charging: ['battery', 'charge', 'chargeLimit'],
  driving: ['battery', 'charge', 'location', 'odometer'],
  plugged: ['battery', 'charge', 'chargeLimit', 'location', 'odometer', 'security'],
  parked: ['battery', 'charge', 'chargeLimit', 'location', 'odometer', 'security'],
  unknown: VEHICLE_FIELDS,
  // A sleeping car is only re-checked, cheaply: state of charge and plug. Reading it does not wake it.
  asleep: ['battery', 'charge'],
};

/** Between a parked car's regular reads: is it plugged in now? One request. */
const PLUG_CHECK_FIELDS: readonly VehicleField[] = ['charge'];

export interface PollerOptions {
  readonly polling: PollingConfig;
  readonly source: VehicleSource;
  readonly logger: Logger;
  readonly publishing: StatePublishing;
  readonly chargePlan: ChargePlanSource | undefined;
  /** Whether the cars get smart-charging entities (the bridge is linked to the service). */
  readonly smartCharging?: boolean;
  readonly isStopped: () => boolean;
  readonly api: ApiHealth;
  /** A car lost entities (fields it cannot deliver): the bridge info lists them. */
  readonly onEntitiesChanged: () => void;
}

export interface Poller {
  /** Reads the car now (one read at a time per car), publishes, and schedules the next read. */
  /** `include`: fields to read besides the activity's (the field a command just changed). */
  poll(
    car: VehicleRuntime,
    options: { wake: boolean; include?: readonly VehicleField[] },
  ): Promise<VehicleSourceError | undefined>;
  /** (Re)arms the car's poll timer for what it is doing now. */
  schedule(car: VehicleRuntime): void;
  /** Forgets a car's timer. */
  cancel(car: VehicleRuntime): void;
}

/** Adaptive polling of every car: by activity, within the daily budget, with backoff and a read-slot limit. */
export function createPoller(options: PollerOptions): Poller {
  const { polling, source, logger, publishing, chargePlan, isStopped, api } = options;
  const parkedLike = (car: VehicleRuntime): boolean =>
    car.activity === 'parked' || car.activity === 'unknown';
  /** Plug checks run between a parked car's regular reads when they are the more frequent. */
  const plugChecking = (car: VehicleRuntime): boolean =>
    parkedLike(car) &&
    car.lastFullReadAt > 0 &&
    polling.plugCheckSeconds > 0 &&
    polling.plugCheckSeconds < polling.parkedSeconds &&
    car.supported.has('charge');

  // At most `maxConcurrentReads` API reads at once: a fleet starting up must not burst past the app's rate limit.
  let readsInFlight = 0;
  const readWaiters: Array<() => void> = [];
  const withReadSlot = async <T>(read: () => Promise<T>): Promise<T> => {
    while (readsInFlight >= polling.maxConcurrentReads)
      await new Promise<void>((resolve) => readWaiters.push(resolve));
    readsInFlight += 1;
    try {
      return await read();
    } finally {
      readsInFlight -= 1;
      readWaiters.shift()?.();
    }
  };

  const fieldsFor = (
    car: VehicleRuntime,
    full: boolean,
    include: readonly VehicleField[] = [],
  ): VehicleField[] => {
    const now = Date.now();
    let wanted: readonly VehicleField[];
    if (full) wanted = VEHICLE_FIELDS;
    // A sleeping car answers every field with "asleep": a full read would only cost more requests.
    else if (car.activity === 'asleep') wanted = FIELDS_BY_ACTIVITY.asleep;
    else if (now - car.lastFullReadAt > FULL_READ_EVERY_MS) wanted = VEHICLE_FIELDS;
    // After a command the read-back and the fast reads are regular ones: the command may have changed anything.
    else if (
      plugChecking(car) &&
      now >= car.fastUntil &&
      now - car.lastRegularReadAt < polling.parkedSeconds * 1000
    )
      wanted = PLUG_CHECK_FIELDS;
    else wanted = FIELDS_BY_ACTIVITY[car.activity];
    const extra = include.filter((field) => !wanted.includes(field));
    return [...wanted, ...extra].filter((field) => car.supported.has(field));
  };

  const dropUnsupported = (car: VehicleRuntime, fields: readonly VehicleField[]): void => {
    for (const field of fields) car.supported.delete(field);
    const before = car.entities;
    car.entities = entitiesFor(
      car.supported,
      chargePlan !== undefined,
      car.dropped,
      options.smartCharging ?? false,
    );
    const removed = before.filter((e) => !car.entities.includes(e));
    if (removed.length === 0) return;
    publishing.removeEntities(car, removed);
    options.onEntitiesChanged();
  };

  const gone = (car: VehicleRuntime): boolean => isStopped() || car.removed;

  /** Entities whose field was read but that the car does not report (an empty sunroof list). */
  const dropUnreported = (car: VehicleRuntime, fields: readonly VehicleField[]): void => {
    const unreported = car.entities.filter(
      (e) => e.reported && fields.includes(e.requires as VehicleField) && !e.reported(car.reading),
    );
    if (unreported.length === 0) return;
    for (const entity of unreported) car.dropped.add(entity.key);
    dropUnsupported(car, []);
  };

  const schedule = (car: VehicleRuntime): void => {
    if (gone(car)) return;
    if (car.timer) clearTimeout(car.timer);
    car.timer = undefined;
    // While the API is down nothing is polled; the API check reads every car once it answers again.
    if (!api.reachable()) return;
    const now = Date.now();
    const fields = fieldsFor(car, false);
    let delay = nextPollDelayMs(
      {
        now,
        activity: car.activity,
        fastUntil: car.fastUntil,
        notBefore: car.notBefore,
        budgetRemaining: car.budget.remaining(now),
        msUntilBudgetReset: car.budget.msUntilReset(now),
        pollCost: fields.length,
      },
      plugChecking(car) ? { ...polling, parkedSeconds: polling.plugCheckSeconds } : polling,
    );
    if (delay === null) return; // asleep: wait for refresh, a command or a push
    // An unreachable car is retried on the backoff schedule, not only at its (slow) normal interval.
    if (car.available === false && car.failures > 0)
      delay = Math.min(delay, Math.max(0, car.notBefore - now));
    // ±10 % jitter so a fleet polled at the same rate does not hit the API in lockstep.
    delay = Math.round(delay * (0.9 + Math.random() * 0.2));
    car.timer = setTimeout(() => {
      car.timer = undefined;
      void poll(car, { wake: false });
    }, delay);
  };

  /**
   * Reads the car and publishes what changed. Returns the error that stopped the read, if any, so a
   * refresh can report it. `wake` (refresh) reads even a sleeping car and every supported field.
   */
  const readCar = async (
    car: VehicleRuntime,
    wake: boolean,
    include: readonly VehicleField[],
  ): Promise<VehicleSourceError | undefined> => {
    const now = Date.now();
    const fields = fieldsFor(car, wake || car.lastFullReadAt === 0, include);
    if (fields.length === 0) return undefined;
    if (car.budget.remaining(now) < fields.length) {
      return new VehicleSourceError('rate_limited', 'daily request budget used up; it resets at 00:00 UTC');
    }
    let failure: VehicleSourceError | undefined;
    try {
      const result = await withReadSlot(() => source.read(car.info.id, fields));
      car.budget.spend(result.requestCount, Date.now());
      if (gone(car)) return undefined;
      api.reportSuccess();
      const unsupported = [...result.errors]
        .filter(([, e]) => e.kind === 'unsupported')
        .map(([field]) => field);
      const delivered = fields.filter((field) => !result.errors.has(field));
      const events = applyReading(car, result.reading, {
        fields: delivered,
        recordedAt: result.recordedAt,
        source: 'poll',
      });
      car.available = true;
      car.failures = 0;
      if (unsupported.length > 0) dropUnsupported(car, unsupported);
      dropUnreported(car, delivered);
      if ([...car.supported].every((field) => fields.includes(field))) car.lastFullReadAt = Date.now();
      if (fields.length > PLUG_CHECK_FIELDS.length) car.lastRegularReadAt = Date.now();
      publishing.publishChargeEvents(car, events);
      await refreshPlan(car, chargePlan, logger);
    } catch (error) {
      failure = isVehicleSourceError(error)
        ? error
        : new VehicleSourceError('unavailable', (error as Error).message ?? 'read failed', { cause: error });
      if (gone(car)) return failure;
      car.budget.spend(1, Date.now());
      if (failure.apiDown) {
        // Not this car's fault: the API topic greys out every car; the API check takes over.
        api.reportFailure(failure);
        logger.warn({ vehicle: car.slug, message: failure.message }, 'vehicle API unreachable');
        publishing.publishState(car);
        return failure;
      }
      api.reportSuccess();
      switch (failure.kind) {
        case 'asleep':
          // Keep the last values; the car is reachable, just sleeping.
          car.activity = 'asleep';
          car.available = true;
          car.failures = 0;
          break;
        case 'rate_limited':
          car.notBefore = Date.now() + (failure.retryAfterSeconds ?? polling.errorBackoffSeconds) * 1000;
          break;
        case 'unsupported':
          dropUnsupported(car, fields);
          break;
        case 'rejected':
        case 'unavailable':
          car.failures += 1;
          car.available = false;
          car.notBefore = Date.now() + backoffMs(car.failures, polling);
          break;
      }
      logger.warn({ vehicle: car.slug, kind: failure.kind, message: failure.message }, 'vehicle read failed');
    }
    if (!car.discoveryPublished) publishing.publishDiscovery(car);
    publishing.publishState(car);
    return failure;
  };

  const poll = async (
    car: VehicleRuntime,
    { wake, include = [] }: { wake: boolean; include?: readonly VehicleField[] },
  ): Promise<VehicleSourceError | undefined> => {
    // One read at a time per car: a refresh during a poll waits for it and then reads again.
    while (car.polling) await car.polling;
    let failure: VehicleSourceError | undefined;
    const run = readCar(car, wake, include).then((f) => {
      failure = f;
    });
    car.polling = run;
    try {
      await run;
    } finally {
      car.polling = undefined;
      schedule(car);
    }
    return failure;
  };

  return {
    poll,
    schedule,
    cancel(car) {
      if (car.timer) clearTimeout(car.timer);
      car.timer = undefined;
    },
  };
}
