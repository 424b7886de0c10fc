/**
 * Requests per second of `@voltkit/core` vs the official `smartcar` SDK (v10.4.0): `GET battery` against
 * the same local keep-alive HTTP server (in its own process), fixed concurrency and duration, alternating
 * rounds so that neither side profits from warm-up order. Prints both and the ratio. Not a test.
 *
 *   pnpm --filter @voltkit/core bench [-- --seconds 5 --concurrency 16 --rounds 2]
 */
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createClient } from '@voltkit/core/client';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    seconds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '2' },
  },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const rounds = Number(values.rounds);
const VEHICLE_ID = '36ab27d0-fd9d-4455-823a-ce30af709ffc';
const TOKEN = 'bench-token';

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

type Call = () => Promise<{ percentRemaining: number }>;

/** Runs `concurrency` loops of `call` for `durationMs`; every loop stops at the deadline. */
async function measure(call: Call, durationMs: number): Promise<number> {
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
  await Promise.all(Array.from({ length: concurrency }, worker));
  return completed / ((performance.now() - started) / 1000);
}

const contenders: [string, Call][] = [
  ['@voltkit/core', () => coreVehicle.battery()],
  ['smartcar@10.4.0', () => sdkVehicle.battery()],
];
// Warm-up: connections, JIT.
for (const [, call] of contenders) await measure(call, 1000);

const results = new Map<string, number[]>(contenders.map(([name]) => [name, []]));
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? contenders : [...contenders].reverse();
  for (const [name, call] of order) results.get(name)!.push(await measure(call, seconds * 1000));
}
serverProcess.disconnect();

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const core = mean(results.get('@voltkit/core')!);
const sdk = mean(results.get('smartcar@10.4.0')!);
console.log(
  `GET battery, ${concurrency} concurrent, ${rounds} × ${seconds} s each, keep-alive, node ${process.version}`,
);
for (const [name, values] of results) {
  console.log(
    `${name.padEnd(18)} ${mean(values).toFixed(0).padStart(7)} req/s   (rounds: ${values.map((v) => v.toFixed(0)).join(', ')})`,
  );
}
console.log(`ratio core/sdk     ${(core / sdk).toFixed(2)}×   (goal ≥ 1.50×)`);
