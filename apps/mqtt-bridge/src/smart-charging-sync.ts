import type { SmartChange } from './commands.ts';
import type { Logger } from './logger.ts';
import type { ServiceVehicleSource } from './service-vehicle-source.ts';
import { SmartChargingLinkError } from './smart-charging-link.ts';
import type { SmartChargingLink, SmartChargingView } from './smart-charging-link.ts';
import type { StatePublishing } from './state-publishing.ts';
import type { VehicleRuntime } from './vehicle-runtime.ts';

export interface SmartChargingSyncOptions {
  readonly link: SmartChargingLink;
  readonly cars: () => Iterable<VehicleRuntime>;
  readonly publishing: StatePublishing;
  /** How often the service is asked for changes made there (dashboard, API, its own re-plans). */
  readonly pollSeconds: number;
  /** The standalone bridge's vehicle source: refreshed on each poll, so the service's reads reach HA. */
  readonly serviceSource?: ServiceVehicleSource | undefined;
  /** The service's list of cars changed (one linked or removed there): the bridge lists its cars again. */
  readonly onVehicleListChanged?: () => void;
  readonly logger: Logger;
}

export interface SmartChargingSync {
  /** Reads the service now and publishes every car whose smart charging changed. Never throws. */
  refresh(): Promise<void>;
  /** Gives a newly added car what the last read knew. */
  apply(car: VehicleRuntime): void;
  /** Sends a change from HA to the service, then reads back. Returns an error message or undefined. */
  execute(car: VehicleRuntime, change: SmartChange): Promise<string | undefined>;
  start(): void;
  stop(): void;
}

/**
 * Keeps HA and the smart-charging service in step: changes from HA go to the service (which re-plans
 * before it answers), and a poll of the service's plan, preferences and modes brings changes made in the
 * dashboard or the API to HA. The poll reads only the service's database, never the vehicle API.
 */
export function createSmartChargingSync(options: SmartChargingSyncOptions): SmartChargingSync {
  const { link, publishing, logger } = options;
  let views = new Map<string, SmartChargingView>();
  let running: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let lastProblem: string | undefined;
  let knownIds: string | undefined;

  const apply = (car: VehicleRuntime): void => {
    const view = views.get(car.info.id);
    if (view === undefined || car.removed) return;
    if (car.smart !== undefined && JSON.stringify(car.smart) === JSON.stringify(view)) return;
    car.smart = view;
    car.plan = view.next
      ? { start: view.next.start, end: view.next.end, cost: view.next.cost, currency: view.next.currency }
      : null;
    publishing.publishState(car);
  };

  const readOnce = async (): Promise<void> => {
    try {
      views = await link.snapshot();
      await options.serviceSource?.refresh();
      if (lastProblem !== undefined) logger.info('smart-charging service answers again');
      lastProblem = undefined;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // Once per distinct problem: a service that is down for an hour does not fill the log.
      if (message !== lastProblem) logger.warn({ err: { message } }, 'cannot read smart charging');
      lastProblem = message;
      return;
    }
    for (const car of options.cars()) apply(car);
    // A car linked in the service reaches HA within a poll, not at the bridge's hourly vehicle list.
    const ids = [...views.keys()].sort().join(',');
    if (knownIds !== undefined && ids !== knownIds) options.onVehicleListChanged?.();
    knownIds = ids;
  };

  const refresh = async (): Promise<void> => {
    if (running) {
      // A read is under way but may predate the change that asks: read once more after it.
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await readOnce();
      } while (again);
    })().finally(() => (running = undefined));
    return running;
  };

  return {
    refresh,
    apply,
    async execute(car, change) {
      try {
        if (change.kind === 'mode') await link.setMode(car.info.id, change.mode);
        else {
          const target = change.change.targetSocPercent ?? car.smart?.targetSocPercent;
          const minimum = change.change.minimumSocPercent ?? car.smart?.minimumSocPercent;
          if (target !== undefined && minimum !== undefined && minimum > target)
            return `minimum charge ${minimum} % is above the charge target ${target} %: lower the minimum or raise the target first`;
          await link.updatePreferences(car.info.id, change.change);
        }
      } catch (error) {
        if (error instanceof SmartChargingLinkError) return error.message;
        throw error;
      }
      await refresh();
      return undefined;
    },
    start() {
      if (options.pollSeconds > 0 && !timer)
        timer = setInterval(() => void refresh(), options.pollSeconds * 1000);
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
