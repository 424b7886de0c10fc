/**
 * Requests per second of `@voltkit/core` (every body and header checked with zod) against the physical
 * limit of the same work: a raw undici `Pool` that sends the same request and parses the JSON, nothing
 * else. The official `smartcar` SDK (v10.4.0) runs beside them. All three call `GET battery` on the same
 * local keep-alive server (its own process), at fixed concurrency; the contenders alternate in rounds (the
 * order rotates) and each keeps its best round, so a burst of other work on a shared machine does not
 * decide the ratio. Prints each, the machine's load, and the ratios. Not a test.
 *
 *   pnpm --filter @voltkit/core bench [-- --seconds 4 --concurrency 16 --rounds 4]
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
    seconds: { type: 'string', default: '4' },
    concurrency: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '4' },
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

// The limit: one keep-alive connection per concurrent caller, the request the client sends, JSON.parse.
const pool = new Pool(origin, { connections: concurrency, pipelining: 1 });
const rawHeaders = {
  authorization: `Bearer ${TOKEN}`,
  'sc-unit-system': 'metric',
  accept: 'application/json',
};
async function rawBattery(): Promise<{ percentRemaining: number }> {
  const { statusCode, body } = await pool.request({ method: 'GET', path: PATH, headers: rawHeaders });
  const json = (await body.json()) as { percentRemaining: number };
  if (statusCode !== 200) throw new Error(`raw pool: HTTP ${statusCode}`);
  return json;
}

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

const best = (name: string): number => Math.max(...(results.get(name) ?? []).map((r) => r.rps));
const leastCpu = (name: string): number => Math.min(...(results.get(name) ?? []).map((r) => r.cpuUs));
console.log(
  `GET battery, ${concurrency} concurrent, keep-alive, best of ${rounds} alternating rounds × ${seconds} s, node ${process.version}`,
);
console.log(`load average (1 min) ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after`);
for (const [name, values] of results) {
  console.log(
    `${name.padEnd(16)} ${best(name).toFixed(0).padStart(7)} req/s best  ${leastCpu(name).toFixed(1).padStart(6)} µs client CPU/request   (rounds: ${values.map((v) => v.rps.toFixed(0)).join(', ')})`,
  );
}
if (results.has(CORE) && results.has(RAW)) {
  const ratio = best(CORE) / best(RAW);
  console.log(
    `ratio core/raw undici Pool  ${ratio.toFixed(2)}   (goal ≥ 0.80: ${ratio >= 0.8 ? 'met' : 'NOT met'})`,
  );
  console.log(`client CPU per request core/raw: ${(leastCpu(CORE) / leastCpu(RAW)).toFixed(2)}×`);
}
if (results.has(CORE) && results.has(SDK)) {
  console.log(`ratio core/smartcar SDK     ${(best(CORE) / best(SDK)).toFixed(2)}`);
}
