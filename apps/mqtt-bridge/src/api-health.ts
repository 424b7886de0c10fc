import type { PollingConfig } from './config.ts';
import type { Logger } from './logger.ts';
import { backoffMs } from './poll-policy.ts';
import type { RetainedPublisher } from './publisher.ts';
import type { Topics } from './topics.ts';
import type { VehicleSource, VehicleSourceError } from './vehicle-source.ts';

export interface ApiHealth {
  /** True until an API-level failure, then false until the API answers again. */
  reachable(): boolean;
  /** Something reached the API: it is up. */
  reportSuccess(): void;
  /** An API call failed; API-level failures (network, timeout, 5xx) mark the API down. */
  reportFailure(failure: VehicleSourceError): void;
  stop(): void;
}

/**
 * Whether the vehicle API answers, as one retained topic every car's availability includes, so that all
 * cars go unavailable at once while it is down. While down, no car is polled (that would only spend each
 * car's budget on errors); a check that touches no car runs on the backoff schedule instead, and the
 * cars are read again once it succeeds.
 */
export function createApiHealth(options: {
  readonly topics: Topics;
  readonly publisher: RetainedPublisher;
  readonly source: VehicleSource;
  readonly polling: PollingConfig;
  readonly logger: Logger;
  /** Runs once the API is back after an outage. */
  readonly onRecovered: () => void;
}): ApiHealth {
  const { topics, publisher, source, polling, logger } = options;
  let state: 'unknown' | 'online' | 'offline' = 'unknown';
  let downSince: Date | undefined;
  let checks = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const publish = (error?: string): void => {
    publisher.set(topics.apiState, state === 'offline' ? 'offline' : 'online');
    publisher.set(
      topics.apiAttributes,
      JSON.stringify(
        state === 'offline'
          ? { down_since: downSince?.toISOString() ?? null, last_error: error ?? null }
          : { down_since: null, last_error: null },
      ),
    );
  };

  const check = async (): Promise<void> => {
    timer = undefined;
    if (stopped || state !== 'offline') return;
    checks += 1;
    try {
      if (source.checkApi) await source.checkApi();
      else await source.listVehicles();
      health.reportSuccess();
    } catch (error) {
      const failure = error as VehicleSourceError;
      if (failure.apiDown === false) return health.reportSuccess(); // it answered, with an error of its own
      publish(failure.message);
      scheduleCheck();
    }
  };

  const scheduleCheck = (): void => {
    if (stopped || timer) return;
    timer = setTimeout(() => void check(), Math.max(100, backoffMs(checks + 1, polling)));
  };

  const health: ApiHealth = {
    reachable: () => state !== 'offline',
    reportSuccess() {
      if (state === 'online') return;
      const wasDown = state === 'offline';
      state = 'online';
      downSince = undefined;
      checks = 0;
      if (timer) clearTimeout(timer);
      timer = undefined;
      publish();
      if (wasDown) {
        logger.info('vehicle API reachable again');
        options.onRecovered();
      }
    },
    reportFailure(failure) {
      if (!failure.apiDown) return;
      if (state !== 'offline') {
        state = 'offline';
        downSince = new Date();
        logger.warn(
          { message: failure.message },
          'vehicle API unreachable; every car is unavailable until it answers',
        );
      }
      publish(failure.message);
      scheduleCheck();
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
  return health;
}
