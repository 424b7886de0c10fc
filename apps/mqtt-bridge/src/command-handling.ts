import { CommandQueue } from './command-queue.ts';
import { parseCommand } from './commands.ts';
import type { CommandResult, ParsedCommand } from './commands.ts';
import type { PollingConfig } from './config.ts';
import type { ApiHealth } from './api-health.ts';
import type { Logger } from './logger.ts';
import type { MqttMessage } from './mqtt-adapter.ts';
import type { Poller } from './polling.ts';
import type { RetainedPublisher } from './publisher.ts';
import type { SmartChargingSync } from './smart-charging-sync.ts';
import type { StatePublishing } from './state-publishing.ts';
import type { CommandName, Topics } from './topics.ts';
import type { VehicleRuntime } from './vehicle-runtime.ts';
import { isVehicleSourceError, VehicleSourceError } from './vehicle-source.ts';
import type { VehicleCommand, VehicleField, VehicleSource } from './vehicle-source.ts';

const RESULT_EXPIRY_SECONDS = 300;

/** What a command changes, so its read-back reads it whatever the car is doing (a charging car's lock too). */
const FIELDS_CHANGED_BY: Record<VehicleCommand['kind'], readonly VehicleField[]> = {
  startCharge: ['charge', 'battery'],
  stopCharge: ['charge', 'battery'],
  setChargeLimit: ['chargeLimit'],
  lock: ['security'],
  unlock: ['security'],
};

const EVENT_BY_STATUS = {
  pending: 'command_pending',
  ok: 'command_succeeded',
  error: 'command_failed',
  superseded: 'command_superseded',
} as const satisfies Record<CommandResult['status'], string>;

interface QueuedCommand {
  readonly name: CommandName;
  readonly command: ParsedCommand;
  readonly message: MqttMessage;
}

export interface CommandHandlingOptions {
  readonly topics: Topics;
  readonly publisher: RetainedPublisher;
  readonly publishing: StatePublishing;
  readonly poller: Poller;
  readonly api: ApiHealth;
  readonly source: VehicleSource;
  readonly polling: PollingConfig;
  /** Commands that may wait per car behind the one that runs. */
  readonly queueLimit: number;
  /** Smart charging, when the bridge is linked to the service: its entities and the charging switch go there. */
  readonly smartCharging?: SmartChargingSync | undefined;
  readonly logger: Logger;
  readonly carBySlug: (slug: string) => VehicleRuntime | undefined;
  /** Whether a topic is the bridge's own (its base topic or the discovery prefix). */
  readonly ownsTopic: (topic: string) => boolean;
}

export interface CommandHandling {
  /** Handles one message on `<base>/<vid>/<command>/set`. Never throws. */
  handle(message: MqttMessage, slug: string, name: CommandName): void;
  /** Resolves once every queued command has run. */
  idle(): Promise<void>;
  /** Forgets a removed car's queue (what waits in it still runs, against a car that is gone). */
  forget(car: VehicleRuntime): void;
}

/** The MQTT command boundary: validation, a bounded coalescing queue per car, execution and results. */
export function createCommandHandling(options: CommandHandlingOptions): CommandHandling {
  const { topics, publisher, publishing, poller, source, polling, logger, api } = options;
  const queues = new Map<VehicleRuntime, CommandQueue<QueuedCommand>>();
  const ts = (): string => new Date().toISOString();

  const reply = (message: MqttMessage, payload: string): void => {
    if (!message.responseTopic) return;
    // A response topic inside the bridge's own tree (bridge/state, a car's availability, discovery) would let
    // any command sender overwrite what HA reads there: such answers are not sent.
    if (options.ownsTopic(message.responseTopic)) {
      logger.warn(
        { topic: message.topic },
        'response topic inside the bridge’s own topics; not answered there',
      );
      return;
    }
    publisher.send(message.responseTopic, payload, {
      messageExpirySeconds: RESULT_EXPIRY_SECONDS,
      contentType: 'application/json',
      ...(message.correlationData ? { correlationData: message.correlationData } : {}),
    });
  };

  /** Result on the car's result topic, the MQTT 5 response topic and the car's HA event entity. */
  const sendResult = (car: VehicleRuntime, result: CommandResult, message: MqttMessage): void => {
    const vt = topics.vehicle(car.slug);
    const payload = JSON.stringify(result);
    publisher.send(vt.result(result.command), payload, {
      messageExpirySeconds: RESULT_EXPIRY_SECONDS,
      contentType: 'application/json',
    });
    reply(message, payload);
    publisher.send(
      vt.event,
      JSON.stringify({
        event_type: EVENT_BY_STATUS[result.status],
        command: result.command,
        ...(result.value !== undefined ? { value: result.value } : {}),
        ...(result.error ? { message: result.error } : {}),
        ...(result.transaction ? { transaction: result.transaction } : {}),
      }),
      { messageExpirySeconds: RESULT_EXPIRY_SECONDS },
    );
  };

  const described = (queued: QueuedCommand) => ({
    command: queued.name,
    value: queued.command.value,
    ...(queued.command.transaction ? { transaction: queued.command.transaction } : {}),
  });

  /** Runs a command, then reads the car back so the state follows. Returns an error message or undefined. */
  const execute = async (car: VehicleRuntime, command: ParsedCommand): Promise<string | undefined> => {
    const smart = options.smartCharging;
    const fastReads = (): void => {
      car.fastUntil = Date.now() + polling.fastWindowSeconds * 1000;
    };
    if (command.kind === 'smart') {
      if (!smart) return 'smart charging is not linked to this bridge';
      // A new mode may start or stop the car: read it quickly. Targets and departure only change the plan.
      if (command.change.kind === 'mode') fastReads();
      const error = await smart.execute(car, command.change);
      if (command.change.kind === 'mode') poller.schedule(car);
      return error;
    }
    if (
      smart &&
      car.smart !== undefined &&
      car.smart.mode !== 'off' &&
      command.kind === 'vehicle' &&
      (command.command.kind === 'startCharge' || command.command.kind === 'stopCharge')
    ) {
      // Smart charging owns the car: ON is "charge now", OFF hands it back to the plan (which pauses it
      // unless a planned slot is now). A direct start or stop would be undone by the next plan.
      fastReads();
      const error = await smart.execute(car, {
        kind: 'mode',
        mode: command.command.kind === 'startCharge' ? 'now' : 'smart',
      });
      poller.schedule(car);
      return error;
    }
    // Fast reads after every command, failed or not: the car may not be in the state HA showed.
    fastReads();
    if (command.kind === 'refresh') {
      const failure = await poller.poll(car, { wake: true });
      return failure ? `refresh failed: ${failure.message}` : undefined;
    }
    const vt = topics.vehicle(car.slug);
    const lockTopic = vt.value('lock');
    if (car.budget.remaining(Date.now()) < 1) {
      poller.schedule(car);
      return 'daily request budget used up; it resets at 00:00 UTC';
    }
    if (command.command.kind === 'lock' || command.command.kind === 'unlock') {
      // Transitional state for the HA lock card; the read-back sets the real one.
      publisher.set(lockTopic, command.command.kind === 'lock' ? 'LOCKING' : 'UNLOCKING');
    }
    try {
      await source.command(car.info.id, command.command);
      car.budget.spend(1, Date.now());
      api.reportSuccess();
      if (command.command.kind === 'setChargeLimit')
        car.reading = { ...car.reading, chargeLimitPercent: command.command.percent };
    } catch (error) {
      car.budget.spend(1, Date.now());
      const failure = isVehicleSourceError(error)
        ? error
        : new VehicleSourceError('unavailable', String((error as Error).message));
      if (failure.apiDown) api.reportFailure(failure);
      else api.reportSuccess();
      if (failure.kind === 'rate_limited' && failure.retryAfterSeconds)
        car.notBefore = Date.now() + failure.retryAfterSeconds * 1000;
      // Put back what the car really shows (e.g. the switch flips back to OFF in HA).
      if (car.reading.locked === undefined && publisher.has(lockTopic)) publisher.clear(lockTopic);
      publishing.publishState(car);
      // Read back unless the API asked us to wait: a refused command often means HA showed stale state.
      if (failure.kind === 'rejected')
        await poller.poll(car, { wake: false, include: FIELDS_CHANGED_BY[command.command.kind] });
      else poller.schedule(car);
      return failure.message;
    }
    await poller.poll(car, { wake: false, include: FIELDS_CHANGED_BY[command.command.kind] });
    return undefined;
  };

  const queueFor = (car: VehicleRuntime): CommandQueue<QueuedCommand> => {
    let queue = queues.get(car);
    if (!queue) {
      queue = new CommandQueue<QueuedCommand>(options.queueLimit, async (queued) => {
        const error = await execute(car, queued.command);
        const base = described(queued);
        sendResult(
          car,
          error ? { status: 'error', ...base, error, ts: ts() } : { status: 'ok', ...base, ts: ts() },
          queued.message,
        );
      });
      queues.set(car, queue);
    }
    return queue;
  };

  const handle = (message: MqttMessage, slug: string, name: CommandName): void => {
    if (message.payload.length === 0) return; // our own clear of a retained command, or someone else's
    const car = options.carBySlug(slug);
    if (message.retain) {
      // A retained command is stale by definition (it may be days old): never act on it, and remove it.
      logger.warn({ topic: message.topic }, 'ignoring retained command');
      publisher.send(message.topic, '', { retain: true });
      if (car) {
        sendResult(
          car,
          {
            status: 'error',
            command: name,
            error: `${name}: retained commands are never executed (they may be stale); publish without the retain flag`,
            ts: ts(),
          },
          message,
        );
      }
      return;
    }
    if (!car) {
      // No result topics under a name nobody owns: only the requester's own response topic hears back.
      logger.warn({ topic: message.topic }, 'command for an unknown vehicle');
      reply(
        message,
        JSON.stringify({ status: 'error', command: name, error: `unknown vehicle ${slug}`, ts: ts() }),
      );
      return;
    }
    const parsed = parseCommand(name, message.payload);
    if (!parsed.ok) {
      sendResult(
        car,
        {
          status: 'error',
          command: name,
          error: parsed.error,
          ...(parsed.transaction ? { transaction: parsed.transaction } : {}),
          ts: ts(),
        },
        message,
      );
      return;
    }
    const queued: QueuedCommand = { name, command: parsed.command, message };
    const base = described(queued);
    if (!car.entities.some((entity) => entity.command === name)) {
      sendResult(
        car,
        {
          status: 'error',
          ...base,
          error: `${name}: this car has no ${name} control (the car or the permissions its owner granted do not support it)`,
          ts: ts(),
        },
        message,
      );
      return;
    }
    const outcome = queueFor(car).enqueue(name, queued);
    if (!outcome.accepted) {
      sendResult(
        car,
        {
          status: 'error',
          ...base,
          error: `${name}: the car's command queue is full (${options.queueLimit} commands wait); try again when they have run`,
          ts: ts(),
        },
        message,
      );
      return;
    }
    if (outcome.replaced) {
      sendResult(
        car,
        {
          status: 'superseded',
          ...described(outcome.replaced),
          error: `${name}: replaced by a newer ${name} command before it ran`,
          ts: ts(),
        },
        outcome.replaced.message,
      );
    }
    sendResult(car, { status: 'pending', ...base, ts: ts() }, message);
  };

  return {
    handle,
    async idle() {
      await Promise.all([...queues.values()].map((queue) => queue.idle()));
    },
    forget(car) {
      queues.delete(car);
    },
  };
}
