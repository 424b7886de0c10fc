/**
 * Benchmark (not a test): command → state latency with the simulator behind the bridge, on the embedded
 * aedes broker and on Mosquitto (127.0.0.1:1883) in the same run. For each command: publish on
 * `<vin>/<command>/set` → the `ok` result, and → the retained state topic showing the new value.
 *
 *   node --conditions=@voltkit/source --import tsx bench/command-latency.ts   (BENCH_ROUNDS=40)
 */
import mqtt from 'mqtt';
import { BROKER_KINDS, startTestBroker } from '../test/helpers.ts';
import { startStack } from '../test/stack.ts';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 40);

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

type Row = { broker: string; command: string; result: number[]; state: number[] };

async function measure(kind: (typeof BROKER_KINDS)[number]): Promise<Row[]> {
  const broker = await startTestBroker(kind);
  // The daily budget is not the subject here: 240 commands with read-backs would exhaust the default.
  const stack = await startStack(broker, `lat_${kind}`, { polling: { dailyRequestBudget: 100_000_000 } });
  const t = (key: string): string => `${stack.base}/${stack.slug}/${key}`;
  await stack.probe.waitFor((m) => m.topic === t('availability') && m.payload === 'online');
  stack.sim.plugIn(stack.vehicleId);
  stack.sim.setSoc(stack.vehicleId, 0.5);
  const cases = [
    { command: 'charge_limit', values: ['60', '70'], state: 'charge_limit', expect: (v: string) => v },
    { command: 'lock', values: ['UNLOCK', 'LOCK'], state: 'lock', expect: (v: string) => `${v}ED` },
    { command: 'charging', values: ['OFF', 'ON'], state: 'charging', expect: (v: string) => v },
  ];
  const rows: Row[] = [];
  for (const c of cases) {
    const row: Row = { broker: kind, command: c.command, result: [], state: [] };
    for (let i = 0; i < ROUNDS; i += 1) {
      const value = c.values[i % 2]!;
      const mark = stack.probe.mark();
      const start = Date.now();
      await stack.probe.publish(t(`${c.command}/set`), value);
      const done = await stack.probe.waitFor(
        (m) => m.topic === t(`${c.command}/result`) && !m.payload.includes('"pending"'),
        { since: mark, timeoutMs: 10_000 },
      );
      if (!done.payload.includes('"ok"')) throw new Error(`${c.command} ${value} failed: ${done.payload}`);
      const ok = done;
      // The read-back precedes the result; a value that did not change is not republished (state = result).
      const state = stack.probe.messages
        .slice(mark)
        .find((m) => m.topic === t(c.state) && m.payload === c.expect(value));
      if (!state && stack.probe.last(t(c.state))?.payload !== c.expect(value))
        throw new Error(`${c.command} ${value}: the state does not show it`);
      row.result.push(ok.at - start);
      row.state.push((state?.at ?? ok.at) - start);
    }
    rows.push(row);
  }
  await stack.close();
  await broker.close();
  return rows;
}

/** The peer: a bare request → reply between two mqtt.js clients on the same broker (no bridge, no API). */
async function brokerRoundTrip(kind: (typeof BROKER_KINDS)[number]): Promise<number[]> {
  const broker = await startTestBroker(kind);
  const topic = `bench_rt_${Date.now()}`;
  const requester = await mqtt.connectAsync(broker.url, { protocolVersion: broker.protocolVersion });
  const responder = await mqtt.connectAsync(broker.url, { protocolVersion: broker.protocolVersion });
  await responder.subscribeAsync(`${topic}/req`, { qos: 1 });
  responder.on('message', () => void responder.publish(`${topic}/res`, 'ok', { qos: 1 }));
  await requester.subscribeAsync(`${topic}/res`, { qos: 1 });
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i += 1) {
    const start = Date.now();
    const reply = new Promise<void>((resolve) => requester.once('message', () => resolve()));
    await requester.publishAsync(`${topic}/req`, 'x', { qos: 1 });
    await reply;
    times.push(Date.now() - start);
  }
  await requester.endAsync();
  await responder.endAsync();
  await broker.close();
  return times;
}

const all: Row[] = [];
const peers = new Map<string, number[]>();
for (const kind of BROKER_KINDS) peers.set(kind, await brokerRoundTrip(kind));
for (const kind of BROKER_KINDS) all.push(...(await measure(kind)));
console.log(`command → state, ${ROUNDS} rounds per command (ms, wall clock incl. API call and read-back)`);
console.log('broker     command        result p50  p95   state p50  p95');
for (const row of all) {
  console.log(
    `${row.broker.padEnd(10)} ${row.command.padEnd(14)} ${percentile(row.result, 50).toFixed(1).padStart(9)} ${percentile(row.result, 95).toFixed(1).padStart(5)} ${percentile(row.state, 50).toFixed(1).padStart(10)} ${percentile(row.state, 95).toFixed(1).padStart(5)}`,
  );
}
for (const [kind, times] of peers)
  console.log(
    `${kind.padEnd(10)} peer: bare MQTT request → reply p50 ${percentile(times, 50).toFixed(1)} p95 ${percentile(times, 95).toFixed(1)}; bridge state p50 / peer p50 = ${(
      percentile(
        all.filter((r) => r.broker === kind).flatMap((r) => r.state),
        50,
      ) / percentile(times, 50)
    ).toFixed(2)}`,
  );
const median = (broker: string): number =>
  percentile(
    all.filter((r) => r.broker === broker).flatMap((r) => r.state),
    50,
  );
console.log(`state p50 ratio mosquitto / aedes: ${(median('mosquitto') / median('aedes')).toFixed(2)}`);
