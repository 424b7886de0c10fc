/**
 * Requests per second of `@voltkit/core` (every body and header checked with zod) against the physical
 * limit of the same work: a raw undici `Pool` that sends the same request and parses the JSON, nothing
 * else. The official `smartcar` SDK (v10.4.0) runs beside them. All three call `GET battery` on the same
 * local keep-alive server (its own process), at fixed concurrency; the contenders alternate in rounds (the
 * order rotates). The ratio is taken per round (neighbours in time) and its median reported with the
 * range, so a burst of other work on a shared machine does not decide it. Prints each, the machine's
 * load, and the ratios. Not a test.
 *
 *   pnpm --filter @voltkit/core bench [-- --seconds 3 --concurrency 16 --rounds 8]
 *   pnpm --filter @voltkit/core bench -- --only core --seconds 20   # one contender, e.g. under --cpu-prof
 */
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { createClient } from '@voltkit/core/client';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    seconds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '8' },
    only: { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const rounds = Number(values.rounds);
const VEHICLE_ID = '36ab27d0-fd9d-4455-823a-ce30af709ffc';
const TOKEN = 'bench-token';
const PATH = `/v2.0/vehicles/${VEHICLE_ID}/battery`;

const serverProcess = fork(fileURLToPath(new URL('./battery-server.ts', import.meta.url)), {
  stdio: 'inherit',
  execArgv: ['--import', 'tsx'],
});
const port = await new Promise<number>((resolve, reject) => {
  serverProcess.once('message', (message: { port: number }) => resolve(message.port));
  serverProcess.once('error', reject);
});
const origin = `http://127.0.0.1:${port}`;

// The SDK reads its origin from the environment when a Vehicle is constructed.
process.env['SMARTCAR_API_ORIGIN'] = origin;
const smartcar = createRequire(import.meta.url)('smartcar') as {
  Vehicle: new (
    id: string,
    token: string,
    options?: { unitSystem?: string },
  ) => {
    battery(): Promise<{ percentRemaining: number; range: number }>;
  };
};
const sdkVehicle = new smartcar.Vehicle(VEHICLE_ID, TOKEN, { unitSystem: 'metric' });

const client = createClient({ clientId: 'bench', clientSecret: 'bench-secret', origin, retry: false });
await client.importGrant('bench', {
  accessToken: TOKEN,
  refreshToken: 'bench-refresh',
  expiration: new Date(Date.now() + 24 * 3_600_000),
  refreshExpiration: new Date(Date.now() + 30 * 86_400_000),
});
const coreVehicle = client.grant('bench').vehicle(VEHICLE_ID, { scopes: ['read_battery'] });

// The limit: one keep-alive connection per concurrent caller, the very request the client sends (the same
// header names and values, checked below), JSON.parse, nothing else.
const pool = new Pool(origin, { connections: concurrency, pipelining: 1 });
const rawHeaders = {
  'user-agent': 'voltkit/0.1 (node)',
  authorization: `Bearer ${TOKEN}`,
  'sc-unit-system': 'metric',
};
async function rawBattery(): Promise<{ percentRemaining: number }> {
  const { statusCode, body } = await pool.request({ method: 'GET', path: PATH, headers: rawHeaders });
  const json = (await body.json()) as { percentRemaining: number };
  if (statusCode !== 200) throw new Error(`raw pool: HTTP ${statusCode}`);
  return json;
}

/** The headers the server received from each contender (the server echoes them on `GET /_headers`). */
async function sentHeaders(call: () => Promise<unknown>): Promise<string> {
  await fetch(`${origin}/_headers/reset`);
  await call();
  return (await fetch(`${origin}/_headers`)).text();
}
const coreSent = await sentHeaders(() => coreVehicle.battery());
const rawSent = await sentHeaders(rawBattery);
if (coreSent !== rawSent) throw new Error(`the raw Pool sends ${rawSent}, @voltkit/core ${coreSent}`);

type Call = () => Promise<{ percentRemaining: number }>;

interface Round {
  rps: number;
  /** CPU time of this (client) process per request, in µs: what the contender itself costs. */
  cpuUs: number;
}

/** Runs `concurrency` loops of `call` for `durationMs`; every loop stops at the deadline. */
async function measure(call: Call, durationMs: number): Promise<Round> {
  let completed = 0;
  const deadline = performance.now() + durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const result = await call();
      if (result.percentRemaining !== 0.3) throw new Error('unexpected body');
      completed++;
    }
  };
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const cpu = process.cpuUsage(cpuBefore);
  return {
    rps: completed / ((performance.now() - started) / 1000),
    cpuUs: (cpu.user + cpu.system) / completed,
  };
}

const CORE = '@voltkit/core';
const RAW = 'raw undici Pool';
const SDK = 'smartcar@10.4.0';
const all: [string, Call][] = [
  [CORE, () => coreVehicle.battery()],
  [RAW, rawBattery],
  [SDK, () => sdkVehicle.battery()],
];
const only = values.only;
const contenders = all.filter(([name]) => only === undefined || name.includes(only));
if (contenders.length === 0) throw new Error(`--only ${only}: no contender by that name`);
// Warm-up: connections, JIT.
for (const [, call] of contenders) await measure(call, 1000);

const loadBefore = loadavg()[0] ?? 0;
const results = new Map<string, Round[]>(contenders.map(([name]) => [name, []]));
for (let round = 0; round < rounds; round++) {
  const shift = round % contenders.length;
  const order = [...contenders.slice(shift), ...contenders.slice(0, shift)];
  for (const [name, call] of order) results.get(name)!.push(await measure(call, seconds * 1000));
}
const loadAfter = loadavg()[0] ?? 0;
serverProcess.disconnect();
await pool.close();

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
const rpsOf = (name: string): number[] => (results.get(name) ?? []).map((r) => r.rps);
const cpuOf = (name: string): number[] => (results.get(name) ?? []).map((r) => r.cpuUs);
/** The per-round ratios of two contenders, their median and range, and best against best. */
function ratio(a: string, b: string): { median: number; min: number; max: number; best: number } {
  const bs = rpsOf(b);
  const ratios = rpsOf(a).map((value, i) => value / bs[i]!);
  return {
    median: median(ratios),
    min: Math.min(...ratios),
    max: Math.max(...ratios),
    best: Math.max(...rpsOf(a)) / Math.max(...bs),
  };
}
console.log(
  `GET battery, ${concurrency} concurrent, keep-alive, ${rounds} alternating rounds × ${seconds} s, node ${process.version}`,
);
console.log(`load average (1 min) ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after`);
for (const name of results.keys()) {
  console.log(
    `${name.padEnd(16)} ${median(rpsOf(name)).toFixed(0).padStart(7)} req/s median ${Math.max(...rpsOf(name))
      .toFixed(0)
      .padStart(
        7,
      )} best  ${median(cpuOf(name)).toFixed(1).padStart(6)} µs client CPU/request   (rounds: ${rpsOf(name)
      .map((v) => v.toFixed(0))
      .join(', ')})`,
  );
}
if (results.has(CORE) && results.has(RAW)) {
  const r = ratio(CORE, RAW);
  console.log(
    `ratio core/raw undici Pool  ${r.median.toFixed(2)} median of ${rounds} rounds (${r.min.toFixed(2)}–${r.max.toFixed(2)}; best/best ${r.best.toFixed(2)})   (goal ≥ 0.80: ${r.median >= 0.8 ? 'met' : 'NOT met'})`,
  );
  const rawCpu = cpuOf(RAW);
  const cpuRatios = cpuOf(CORE).map((value, i) => value / rawCpu[i]!);
  console.log(`client CPU per request core/raw: ${median(cpuRatios).toFixed(2)}× (median of rounds)`);
}
if (results.has(CORE) && results.has(SDK)) {
  console.log(`ratio core/smartcar SDK     ${ratio(CORE, SDK).median.toFixed(2)} median of ${rounds} rounds`);
}
