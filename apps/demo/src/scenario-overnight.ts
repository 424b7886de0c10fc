import { randomBytes } from 'node:crypto';
import {
  createCoreVehicleSource,
  parseConfig as parseBridgeConfig,
  startBridge,
  startEmbeddedBroker,
} from '@voltkit/mqtt-bridge';
import { createSimulator, type Simulator } from '@voltkit/simulator';
import { createTokenCipher, DEFAULT_PRICE_FILE, migrate, openSqlClient } from '@voltkit/smart-charging';
import mqtt from 'mqtt';
import type { Logger } from 'pino';
import { DEMO_FLEET, STATION_KW, type DemoCar } from './demo-fleet.ts';
import { linkDemoFleet } from './link-fleet.ts';
import { wireSmartCharging } from './wire-service.ts';

/** The simulator's charger efficiency: grid energy = battery energy / 0.9. */
const EFFICIENCY = 0.9;
const SLOT_MINUTES = 15;
const SLOT_MS = SLOT_MINUTES * 60_000;
const STEP_MS = 60_000;
/** On/off commands run on whole minutes, rounded so the grid limit holds: a target may end this far short. */
const TARGET_TOLERANCE = 0.005;

/** The scenario cannot give a meaningful verdict on these inputs (e.g. a night without real prices). */
export class ScenarioInputError extends Error {
  override name = 'ScenarioInputError';
}

export interface OvernightOptions {
  readonly logger: Logger;
  /** Arrival of the cars. @default 2026-11-24T17:00Z (18:00 in Berlin, a Tuesday) */
  readonly start?: Date;
  /** Departure. @default 06:00Z next morning (07:00 in Berlin) */
  readonly departure?: Date;
  /** The feeder's limit, shared by the cars and the households' base load. @default 24 kW */
  readonly gridLimitKw?: number;
  /** Households on the feeder, kWh per year (BDEW H25 profile). @default 17 500 (five homes) */
  readonly baseLoadKwhPerYear?: number;
  readonly targetSoc?: number;
  readonly fleet?: readonly DemoCar[];
  /** `hard`: the limit must hold in every minute, not only on 15-minute averages. @default 'average' */
  readonly limitMode?: 'average' | 'hard';
  /** Price history replayed onto the night. @default the aWATTar DE history shipped in data/ */
  readonly priceFile?: string;
  /** Ask the bridge for a fresh read of every car over MQTT this often (simulated). @default 60 min */
  readonly refreshEveryMinutes?: number;
}

export interface VehicleOutcome {
  readonly name: string;
  readonly chargeable: boolean;
  readonly arrivalSoc: number | null;
  readonly departureSoc: number | null;
  readonly targetSoc: number | null;
  readonly met: boolean;
  readonly gridKwh: number;
  readonly cost: number;
  readonly uncontrolledCost: number;
}

export interface OvernightReport {
  readonly start: Date;
  readonly departure: Date;
  readonly prices: string;
  readonly gridLimitKw: number;
  readonly limitMode: 'average' | 'hard';
  readonly vehicles: readonly VehicleOutcome[];
  readonly cost: { readonly smart: number; readonly onArrival: number };
  readonly peak: {
    /** Highest one-minute draw of the managed cars plus base load (the limit is planned per slot). */
    readonly smartMinuteKw: number;
    readonly smartKw: number;
    readonly uncontrolledKw: number;
    readonly slotsOverLimit: number;
  };
  readonly commands: {
    readonly sent: number;
    readonly confirmed: number;
    readonly failed: number;
    readonly open: number;
  };
  readonly mqtt: {
    readonly published: number;
    readonly discovery: number;
    readonly states: number;
    readonly refreshesAnswered: number;
    readonly refreshesAsked: number;
    readonly bridgeOffline: boolean;
  };
  readonly elapsedMs: number;
  readonly failures: readonly string[];
  readonly passed: boolean;
}

interface Twin {
  readonly car: DemoCar;
  readonly smartId: string;
  readonly twinId: string;
}

/**
 * A scripted night against the real parts: two simulators on a stepped clock (one managed by the
 * smart-charging service, its twin left to charge on arrival), real day-ahead prices replayed from
 * the repository's data/ folder, a feeder limit with the households' base load, the MQTT bridge on an embedded broker with a
 * real subscriber counting what it publishes. The report says whether every car reached its target by
 * departure and the feeder limit held.
 */
export async function runOvernightScenario(options: OvernightOptions): Promise<OvernightReport> {
  const began = performance.now();
  const logger = options.logger;
  const start = options.start ?? new Date('2026-11-24T17:00:00Z');
  const departure = options.departure ?? new Date(start.getTime() + 13 * 3_600_000);
  const gridLimitKw = options.gridLimitKw ?? 24;
  const limitMode = options.limitMode ?? 'average';
  const targetSoc = options.targetSoc ?? 0.8;
  const fleet = options.fleet ?? DEMO_FLEET;
  const refreshEveryMs = (options.refreshEveryMinutes ?? 60) * 60_000;
  const priceFile = options.priceFile ?? DEFAULT_PRICE_FILE;
  const priceSource = `file:${priceFile}`;
  const closers: (() => Promise<unknown>)[] = [];

  try {
    const smart: Simulator = await createSimulator({ clock: { mode: 'manual', start } });
    closers.push(() => smart.close());
    const uncontrolled: Simulator = await createSimulator({ clock: { mode: 'manual', start } });
    closers.push(() => uncontrolled.close());

    const db = await openSqlClient({});
    closers.push(() => db.close());
    await migrate(db);

    const wired = await wireSmartCharging({
      db,
      config: {
        host: '127.0.0.1',
        port: 0,
        vehicleApi: { kind: 'embedded-simulator' },
        timeZone: 'Europe/Berlin',
        slotMinutes: SLOT_MINUTES,
        priceSource,
        priceFetchCron: '5 13 * * *',
        connectMode: 'simulated',
      },
      sim: smart,
      logger,
      now: () => smart.clock.now(),
      // An in-memory scenario: a throwaway key for the tokens it stores.
      cipher: createTokenCipher([{ id: 'scenario', key: randomBytes(32) }]),
    });
    closers.push(() => wired.close());
    const { api, service: running, client } = wired;
    closers.push(() => running.stop());
    // Prices first, so that no plan of the night is made without them (setting the grid re-plans).
    await running.start({ schedule: false });
    await api.setGrid(gridLimitKw, options.baseLoadKwhPerYear ?? 17_500, limitMode);
    // A night priced by guesswork proves nothing: every slot must have a real price, or the run stops here.
    const coverage = await api.prices(start, departure);
    if (coverage.missing.length > 0) {
      throw new ScenarioInputError(
        `${coverage.problem ?? 'prices are missing'}: every slot of the night needs a real price`,
      );
    }

    // The fleet arrives: linked through Connect, plugged in. Its twin arrives at the same SoC, unmanaged.
    const linked = await linkDemoFleet({ sim: smart, api, fleet, targetSoc });
    const twins: Twin[] = [];
    for (const { car, vehicleId } of linked) {
      if (car.arrivalSoc === undefined) continue;
      const twinId = uncontrolled.createTestAccount({ email: car.email, brand: car.brand, model: car.model })
        .vehicles[0]!.id;
      uncontrolled.setSoc(twinId, car.arrivalSoc);
      uncontrolled.updateVehicle(twinId, { chargeLimit: targetSoc });
      uncontrolled.plugIn(twinId, { stationKw: STATION_KW });
      twins.push({ car, smartId: vehicleId, twinId });
    }
    // Plugged in and at their arrival SoC: plan the night for them.
    await running.replan('the fleet arrived');

    // MQTT: the bridge on an embedded broker, and a plain subscriber that counts what the bridge publishes.
    const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
    closers.push(() => broker.close());
    const bridgeConfig = parseBridgeConfig({ logLevel: 'silent', mqtt: { clientId: 'voltkit-demo-bridge' } });
    const subscriber = await mqtt.connectAsync(broker.url, {
      protocolVersion: 4,
      clientId: 'voltkit-demo-counter',
      reconnectPeriod: 0,
    });
    closers.push(() => subscriber.endAsync(true));
    const counts = { published: 0, discovery: 0, states: 0 };
    const refreshResults: string[] = [];
    let bridgeOffline = false;
    const base = bridgeConfig.baseTopic;
    subscriber.on('message', (topic, payload) => {
      if (topic.endsWith('/set')) return; // our own requests
      counts.published += 1;
      if (topic.startsWith(`${bridgeConfig.homeAssistant.discoveryPrefix}/`)) counts.discovery += 1;
      if (topic.endsWith('/state') && topic !== `${base}/bridge/state`) counts.states += 1;
      if (topic === `${base}/bridge/state`) bridgeOffline = payload.toString() === 'offline';
      if (topic.endsWith('/refresh/result') && payload.toString().includes('"status":"ok"'))
        refreshResults.push(topic);
    });
    await subscriber.subscribeAsync([`${base}/#`, `${bridgeConfig.homeAssistant.discoveryPrefix}/#`], {
      qos: 1,
    });
    const bridge = await startBridge({
      config: bridgeConfig,
      source: createCoreVehicleSource({
        client,
        grantIds: () => api.activeGrantIds(),
      }),
      brokerUrl: broker.url,
      protocolVersion: 4,
      smartCharging: { link: wired.link, pollSeconds: 2 },
      logger: logger.child({ app: 'mqtt-bridge' }),
    });
    let bridgeStopped = false;
    closers.push(async () => {
      if (!bridgeStopped) await bridge.stop();
    });

    // The night, one simulated minute per step.
    const headroom = new Map<number, number>();
    const baseLoad = new Map<number, number>();
    const energy = {
      smart: new Map<string, Map<number, number>>(),
      uncontrolled: new Map<string, Map<number, number>>(),
    };
    const capacity = (twin: Twin) => twin.car.batteryKwh ?? 0;
    const soc = (sim: Simulator, id: string) => sim.vehicle(id).state.soc ?? 0;
    const add = (series: Map<string, Map<number, number>>, id: string, slot: number, kwh: number) => {
      const bySlot = series.get(id) ?? new Map<number, number>();
      bySlot.set(slot, (bySlot.get(slot) ?? 0) + kwh);
      series.set(id, bySlot);
    };
    let refreshesAsked = 0;
    let smartMinuteKw = 0;
    for (let t = start.getTime(); t < departure.getTime(); t += STEP_MS) {
      await running.tick();
      if (t % SLOT_MS === 0 || t === start.getTime()) {
        // The widest view of each slot's headroom: a plan made mid-slot sees only what is left of it.
        for (const slot of (await running.dashboard()).fleet.slots) {
          const key = Date.parse(slot.start);
          headroom.set(key, Math.max(headroom.get(key) ?? 0, (slot.limitKw ?? Infinity) - slot.baseLoadKw));
          baseLoad.set(key, slot.baseLoadKw);
        }
      }
      if ((t - start.getTime()) % refreshEveryMs === 0) {
        refreshesAsked += await refreshOverMqtt(subscriber, base, bridge.vehicleSlugs(), refreshResults);
      }
      const before = twins.map((twin) => [soc(smart, twin.smartId), soc(uncontrolled, twin.twinId)] as const);
      await smart.clock.advance(STEP_MS);
      await uncontrolled.clock.advance(STEP_MS);
      const slot = Math.floor(t / SLOT_MS) * SLOT_MS;
      const carsKw: number[] = [];
      for (const [index, twin] of twins.entries()) {
        carsKw.push((((soc(smart, twin.smartId) - before[index]![0]) * capacity(twin)) / EFFICIENCY) * 60);
        const [smartBefore, twinBefore] = before[index]!;
        add(
          energy.smart,
          twin.smartId,
          slot,
          ((soc(smart, twin.smartId) - smartBefore) * capacity(twin)) / EFFICIENCY,
        );
        add(
          energy.uncontrolled,
          twin.smartId,
          slot,
          ((soc(uncontrolled, twin.twinId) - twinBefore) * capacity(twin)) / EFFICIENCY,
        );
      }
      smartMinuteKw = Math.max(smartMinuteKw, carsKw.reduce((a, b) => a + b, 0) + (baseLoad.get(slot) ?? 0));
      logger.debug(
        { at: new Date(t).toISOString(), carsKw: carsKw.map((kw) => Number(kw.toFixed(1))) },
        'minute',
      );
    }

    // Prices as the service stored them (the same real day-ahead prices for both nights).
    const prices = (await api.prices(start, departure)).slots.map((p) => ({
      ...p,
      start: Date.parse(p.start),
      end: Date.parse(p.end),
    }));
    const priceAt = (slot: number) => {
      const price = prices.find((p) => p.start <= slot && slot < p.end)?.pricePerKwh;
      if (price === undefined) throw new ScenarioInputError(`no price for ${new Date(slot).toISOString()}`);
      return price;
    };
    const costOf = (bySlot: Map<number, number> | undefined) =>
      [...(bySlot ?? new Map<number, number>())].reduce((sum, [slot, kwh]) => sum + kwh * priceAt(slot), 0);
    const kwhOf = (bySlot: Map<number, number> | undefined) =>
      [...(bySlot ?? new Map<number, number>()).values()].reduce((a, b) => a + b, 0);

    const failures: string[] = [];
    const vehicles: VehicleOutcome[] = linked.map(({ car, vehicleId }) => {
      const name = `${car.brand} ${car.model}`;
      if (car.arrivalSoc === undefined) {
        return {
          name,
          chargeable: false,
          arrivalSoc: null,
          departureSoc: null,
          targetSoc: null,
          met: true,
          gridKwh: 0,
          cost: 0,
          uncontrolledCost: 0,
        };
      }
      const departureSoc = soc(smart, vehicleId);
      const met = departureSoc >= targetSoc - TARGET_TOLERANCE;
      if (!met) failures.push(`${name} left with ${pct(departureSoc)}, target ${pct(targetSoc)}`);
      return {
        name,
        chargeable: true,
        arrivalSoc: car.arrivalSoc,
        departureSoc,
        targetSoc,
        met,
        gridKwh: kwhOf(energy.smart.get(vehicleId)),
        cost: costOf(energy.smart.get(vehicleId)),
        uncontrolledCost: costOf(energy.uncontrolled.get(vehicleId)),
      };
    });

    // Feeder load per slot: base load + the cars' average power.
    const slotLoad = (series: Map<string, Map<number, number>>) => {
      const load = new Map<number, number>();
      for (const bySlot of series.values()) {
        for (const [slot, kwh] of bySlot) load.set(slot, (load.get(slot) ?? 0) + kwh / (SLOT_MS / 3_600_000));
      }
      return load;
    };
    const smartLoad = slotLoad(energy.smart);
    const uncontrolledLoad = slotLoad(energy.uncontrolled);
    let slotsOverLimit = 0;
    for (const [slot, kw] of smartLoad) {
      const allowed = headroom.get(slot) ?? gridLimitKw;
      if (kw > allowed + 1e-6) {
        slotsOverLimit += 1;
        failures.push(
          `${new Date(slot).toISOString()}: cars drew ${kw.toFixed(2)} kW, headroom ${allowed.toFixed(2)} kW`,
        );
      }
    }
    // A hard limit is a fuse: no minute may go over it (a small allowance for reading power off SoC steps).
    if (limitMode === 'hard' && smartMinuteKw > gridLimitKw + 0.05) {
      failures.push(
        `one minute drew ${smartMinuteKw.toFixed(2)} kW over the hard limit of ${gridLimitKw} kW`,
      );
    }
    const peak = (load: Map<number, number>) =>
      Math.max(0, ...[...load].map(([slot, kw]) => kw + (baseLoad.get(slot) ?? 0)));

    const log = await api.commands();
    const commands = {
      sent: log.filter((c) => c.status === 'confirmed' || c.status === 'failed' || c.status === 'sending')
        .length,
      confirmed: log.filter((c) => c.status === 'confirmed').length,
      failed: log.filter((c) => c.status === 'failed').length,
      // Due before departure but never run; commands due at departure or later belong to the next day.
      open: log.filter(
        (c) =>
          (c.status === 'pending' || c.status === 'sending') && Date.parse(c.dueAt) < departure.getTime(),
      ).length,
    };
    if (commands.open > 0)
      failures.push(`${commands.open} commands due before departure left pending or in flight`);

    // The last refresh answers may still be on their way; then the bridge goes offline.
    await waitFor(() => refreshResults.length >= refreshesAsked, 10_000);
    await bridge.stop();
    bridgeStopped = true;
    await waitFor(() => bridgeOffline, 5_000);
    if (!bridgeOffline) failures.push('the bridge did not publish offline when it stopped');
    const mqttReport = { ...counts, refreshesAsked, refreshesAnswered: refreshResults.length, bridgeOffline };
    if (counts.discovery < twins.length)
      failures.push(`only ${counts.discovery} discovery messages for ${twins.length} cars`);

    return {
      start,
      departure,
      prices: `aWATTar DE day-ahead, ${prices.length} slots replayed from ${priceFile.split('/').at(-1)}`,
      gridLimitKw,
      limitMode,
      vehicles,
      cost: {
        smart: vehicles.reduce((sum, v) => sum + v.cost, 0),
        onArrival: vehicles.reduce((sum, v) => sum + v.uncontrolledCost, 0),
      },
      peak: {
        smartMinuteKw,
        smartKw: peak(smartLoad),
        uncontrolledKw: peak(uncontrolledLoad),
        slotsOverLimit,
      },
      commands,
      mqtt: mqttReport,
      elapsedMs: performance.now() - began,
      failures,
      passed: failures.length === 0,
    };
  } finally {
    for (const step of closers.splice(0).reverse()) {
      await step().catch((error: unknown) => logger.error({ err: error }, 'scenario cleanup failed'));
    }
  }
}

/** Asks the bridge over MQTT to read every car now; waits (bounded) for the answers. */
async function refreshOverMqtt(
  client: mqtt.MqttClient,
  base: string,
  slugs: readonly string[],
  results: readonly string[],
): Promise<number> {
  const before = results.length;
  for (const slug of slugs) await client.publishAsync(`${base}/${slug}/refresh/set`, 'PRESS', { qos: 1 });
  await waitFor(() => results.length - before >= slugs.length, 10_000);
  return slugs.length;
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

function pct(fraction: number): string {
  return `${(fraction * 100).toFixed(1)} %`;
}

export function formatReport(report: OvernightReport): string {
  const eur = (value: number) => `${value.toFixed(2)} EUR`;
  const berlin = (date: Date) =>
    date.toLocaleString('en-GB', { timeZone: 'Europe/Berlin', dateStyle: 'medium', timeStyle: 'short' });
  const savings = report.cost.onArrival > 0 ? (1 - report.cost.smart / report.cost.onArrival) * 100 : 0;
  const lines = [
    `Overnight scenario: ${berlin(report.start)} → ${berlin(report.departure)} (Europe/Berlin)`,
    `  prices: ${report.prices}; feeder limit ${report.gridLimitKw} kW incl. household base load`,
    `  a target counts as met within ${(TARGET_TOLERANCE * 100).toFixed(1)} points (on/off commands run on whole minutes)`,
    '',
    `  ${'vehicle'.padEnd(30)} ${'arrival'.padStart(8)} ${'departure'.padStart(10)} ${'target'.padStart(7)}  ${'kWh'.padStart(6)} ${'smart'.padStart(10)} ${'on arrival'.padStart(11)}`,
    ...report.vehicles.map((v) =>
      v.chargeable
        ? `  ${v.name.padEnd(30)} ${pct(v.arrivalSoc!).padStart(8)} ${pct(v.departureSoc!).padStart(10)} ${pct(v.targetSoc!).padStart(7)}  ${v.gridKwh.toFixed(1).padStart(6)} ${eur(v.cost).padStart(10)} ${eur(v.uncontrolledCost).padStart(11)}  ${v.met ? 'target met' : 'TARGET MISSED'}`
        : `  ${v.name.padEnd(30)} ${'no traction battery: Connect refuses it (vehicle_incompatible), nothing to charge'}`,
    ),
    '',
    `  cost: ${eur(report.cost.smart)} smart vs ${eur(report.cost.onArrival)} charging on arrival (${savings.toFixed(1)} % saved)`,
    `  peak load: ${report.peak.smartKw.toFixed(1)} kW smart vs ${report.peak.uncontrolledKw.toFixed(1)} kW uncontrolled; limit ${report.gridLimitKw} kW, slots over limit: ${report.peak.slotsOverLimit}`,
    report.limitMode === 'hard'
      ? `  hard limit: highest one-minute draw ${report.peak.smartMinuteKw.toFixed(1)} kW, limit ${report.gridLimitKw} kW`
      : `  (15-minute averages, as the planner plans the limit; highest one-minute draw ${report.peak.smartMinuteKw.toFixed(1)} kW)`,
    `  commands: ${report.commands.sent} sent, ${report.commands.confirmed} confirmed, ${report.commands.failed} failed, ${report.commands.open} open`,
    `  MQTT: ${report.mqtt.published} messages published (${report.mqtt.discovery} discovery, ${report.mqtt.states} vehicle states); refresh over MQTT ${report.mqtt.refreshesAnswered}/${report.mqtt.refreshesAsked} answered; bridge offline on stop: ${report.mqtt.bridgeOffline ? 'yes' : 'no'}`,
    `  ran in ${(report.elapsedMs / 1000).toFixed(1)} s`,
    '',
    report.passed ? 'PASS: every target met, no limit broken' : `FAIL: ${report.failures.join('; ')}`,
  ];
  return lines.join('\n');
}
