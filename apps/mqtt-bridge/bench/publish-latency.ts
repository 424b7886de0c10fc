/**
 * Benchmark (not a test): 1,000 vehicles on one bridge; how long from a vehicle state change (a push, as
 * a webhook delivers it) until the new value is on the broker, and how much memory the bridge uses.
 *
 *   pnpm --filter @voltkit/mqtt-bridge bench                       # embedded aedes broker
 *   pnpm --filter @voltkit/mqtt-bridge bench -- --broker mosquitto # 127.0.0.1:1883, MQTT 5
 *
 * The bridge runs in a child process so its RSS is its own (not the broker's or this probe's).
 * Goal: p99 ≤ 50 ms, RSS ≤ 200 MB.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { parseConfig } from '../src/config.ts';
import { startBridge } from '../src/bridge.ts';
import { startEmbeddedBroker } from '../src/embedded-broker.ts';
import { silentLogger } from '../src/logger.ts';
import type { ReadResult, VehicleInfo, VehiclePush, VehicleSource } from '../src/vehicle-source.ts';

const VEHICLES = Number(process.env['BENCH_VEHICLES'] ?? 1000);
const CHANGES = Number(process.env['BENCH_CHANGES'] ?? 5000);
const RATE_PER_SECOND = Number(process.env['BENCH_RATE'] ?? 500);

type ToChild =
  { type: 'change'; index: number; soc: number } | { type: 'flush' } | { type: 'stats' } | { type: 'stop' };
type FromChild =
  | { type: 'ready' }
  | { type: 'flushed' }
  | { type: 'stats'; rss: number; heapUsed: number }
  | { type: 'stopped' };

/** In-memory fleet: reads return the current state; changes are pushed like webhook deliveries. */
class SyntheticFleet implements VehicleSource {
  readonly #soc: number[];
  readonly #listeners = new Set<(push: VehiclePush) => void>();
  constructor(count: number) {
    this.#soc = Array.from({ length: count }, (_, i) => 20 + (i % 60));
  }
  listVehicles(): Promise<VehicleInfo[]> {
    return Promise.resolve(
      this.#soc.map((_, i) => ({
        id: `veh-${i}`,
        vin: `BENCH${String(i).padStart(12, '0')}`,
        make: 'VOLTKIT',
        model: 'Bench',
        year: 2026,
        fields: new Set(['battery', 'charge', 'chargeLimit', 'odometer', 'location', 'security'] as const),
      })),
    );
  }
  read(vehicleId: string): Promise<ReadResult> {
    const i = Number(vehicleId.slice(4));
    return Promise.resolve({
      reading: {
        socPercent: this.#soc[i] ?? 50,
        rangeKm: (this.#soc[i] ?? 50) * 4,
        pluggedIn: false,
        chargeState: 'not_charging',
        chargeLimitPercent: 80,
        odometerKm: 12_000 + i,
        location: { latitude: 52.5 + i / 10_000, longitude: 13.4 },
        locked: true,
      },
      errors: new Map(),
      requestCount: 6,
    });
  }
  command(): Promise<void> {
    return Promise.resolve();
  }
  onPush(listener: (push: VehiclePush) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  change(index: number, soc: number): void {
    this.#soc[index] = soc;
    for (const listener of this.#listeners)
      listener({ vehicleId: `veh-${index}`, reading: { socPercent: soc, rangeKm: soc * 4 } });
  }
}

async function runBridgeChild(): Promise<void> {
  const [url, protocol, base] = process.argv.slice(3);
  const fleet = new SyntheticFleet(VEHICLES);
  const config = parseConfig({
    baseTopic: base,
    mqtt: { url, protocolVersion: Number(protocol), clientId: `bench_${base}` },
    homeAssistant: { discoveryPrefix: `${base}_ha` },
    polling: { parkedSeconds: 86_400, vehicleListSeconds: 0 },
  });
  const bridge = await startBridge({
    config,
    source: fleet,
    brokerUrl: url!,
    protocolVersion: Number(protocol) as 4 | 5,
    logger: silentLogger(),
  });
  const send = (message: FromChild): void => {
    process.send?.(message);
  };
  process.on('message', (message: ToChild) => {
    if (message.type === 'change') fleet.change(message.index, message.soc);
    else if (message.type === 'flush') void bridge.flush().then(() => send({ type: 'flushed' }));
    else if (message.type === 'stats') {
      // Live heap, not garbage waiting for collection (RSS is what the goal is about either way).
      (globalThis as { gc?: () => void }).gc?.();
      const usage = process.memoryUsage();
      send({ type: 'stats', rss: usage.rss, heapUsed: usage.heapUsed });
    } else {
      void bridge.stop().then(() => {
        send({ type: 'stopped' });
        process.exit(0);
      });
    }
  });
  send({ type: 'ready' });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function main(): Promise<void> {
  const useMosquitto = process.argv.includes('mosquitto');
  const embedded = useMosquitto ? undefined : await startEmbeddedBroker({ port: 0 });
  const url = embedded?.url ?? 'mqtt://127.0.0.1:1883';
  const protocol = useMosquitto ? 5 : 4;
  const base = `vkbench_${randomBytes(3).toString('hex')}`;

  const probe = await mqtt.connectAsync(url, { protocolVersion: protocol, clientId: `${base}_probe` });
  await probe.subscribeAsync(`${base}/+/soc`, { qos: 1 });
  const pending = new Map<string, number>(); // "<slug>=<soc>" → sent at (ns)
  const latencies: number[] = [];
  const initial = new Set<string>();
  probe.on('message', (topic, payload) => {
    const key = `${topic}=${payload.toString()}`;
    const sentAt = pending.get(key);
    if (sentAt !== undefined) {
      pending.delete(key);
      latencies.push(Number(process.hrtime.bigint() - BigInt(sentAt)) / 1e6);
    } else initial.add(topic);
  });

  const startedAt = Date.now();
  const child = fork(fileURLToPath(import.meta.url), ['--role=bridge', url, String(protocol), base], {
    execArgv: ['--conditions=@voltkit/source', '--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const fromChild = (type: FromChild['type']): Promise<FromChild> =>
    new Promise((resolve) => {
      const onMessage = (message: FromChild): void => {
        if (message.type === type) {
          child.off('message', onMessage);
          resolve(message);
        }
      };
      child.on('message', onMessage);
    });
  await fromChild('ready');
  // Initial publish of every car (discovery + state), bounded wait.
  const deadline = Date.now() + 60_000;
  while (initial.size < VEHICLES && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const startupMs = Date.now() - startedAt;
  console.log(`bridge up with ${initial.size}/${VEHICLES} vehicles published in ${startupMs} ms`);
  // Let the startup burst (discovery and states of every car) drain before measuring steady state: the
  // bridge sends at most 64 publishes at once, so on a busy machine the burst can outlast a fixed pause.
  const flushed = fromChild('flushed');
  child.send({ type: 'flush' } satisfies ToChild);
  await flushed;
  await new Promise((r) => setTimeout(r, 1000));

  const intervalMs = 10;
  const perTick = Math.max(1, Math.round((RATE_PER_SECOND * intervalMs) / 1000));
  let sent = 0;
  let value = 0;
  while (sent < CHANGES) {
    for (let k = 0; k < perTick && sent < CHANGES; k += 1, sent += 1) {
      const index = Math.floor(Math.random() * VEHICLES);
      value = (value + 1) % 1000;
      const soc = 10 + value / 20; // unique-ish values so every change is a real change
      pending.set(
        `${base}/BENCH${String(index).padStart(12, '0')}/soc=${String(Math.round(soc * 10) / 10)}`,
        Number(process.hrtime.bigint()),
      );
      child.send({ type: 'change', index, soc } satisfies ToChild);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  const drainDeadline = Date.now() + 10_000;
  while (latencies.length < CHANGES && pending.size > 0 && Date.now() < drainDeadline)
    await new Promise((r) => setTimeout(r, 20));

  child.send({ type: 'stats' } satisfies ToChild);
  const stats = (await fromChild('stats')) as Extract<FromChild, { type: 'stats' }>;
  child.send({ type: 'stop' } satisfies ToChild);
  await fromChild('stopped');

  latencies.sort((a, b) => a - b);
  const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  console.log(
    `broker: ${useMosquitto ? 'mosquitto (MQTT 5)' : 'embedded aedes (MQTT 3.1.1)'}; vehicles: ${VEHICLES}; changes: ${CHANGES} at ~${RATE_PER_SECOND}/s`,
  );
  console.log(
    `received ${latencies.length}/${CHANGES} (same-value collisions are coalesced by publish-on-change)`,
  );
  console.log(
    `state change → publish latency: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${latencies.at(-1)?.toFixed(2)} ms (goal p99 ≤ 50 ms: ${p99 <= 50 ? 'met' : 'MISSED'})`,
  );
  console.log(
    `bridge RSS ${mb(stats.rss)} MB, heap ${mb(stats.heapUsed)} MB (goal RSS ≤ 200 MB: ${stats.rss <= 200 * 1024 * 1024 ? 'met' : 'MISSED'})`,
  );

  // Leave the shared broker clean: remove the retained topics this run created. Mosquitto hands a new
  // subscriber only part of tens of thousands of retained messages at once (queue limits), so collect
  // until the stream goes quiet, clear, and repeat until a pass finds nothing (bounded).
  if (useMosquitto) {
    for (let pass = 0; pass < 10; pass += 1) {
      const retained = new Set<string>();
      let lastAt = Date.now();
      const collect = (topic: string, payload: Buffer, packet: { retain: boolean }): void => {
        if (packet.retain && payload.length > 0) retained.add(topic);
        lastAt = Date.now();
      };
      probe.on('message', collect);
      await probe.subscribeAsync([`${base}/#`, `${base}_ha/#`], { qos: 0 });
      const until = Date.now() + 10_000;
      while (Date.now() - lastAt < 500 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      await probe.unsubscribeAsync([`${base}/#`, `${base}_ha/#`]);
      probe.off('message', collect);
      if (retained.size === 0) break;
      await Promise.all(
        [...retained].map((topic) => probe.publishAsync(topic, '', { qos: 1, retain: true })),
      );
    }
  }
  await probe.endAsync();
  await embedded?.close();
}

if (process.argv.includes('--role=bridge')) await runBridgeChild();
else await main();
