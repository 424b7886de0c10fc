// Requests per second of GET /v2.0/vehicles/{id}/battery with keep-alive, the simulator running alone in
// its own process (one core), against a bare node:http server returning the same body as the peer.
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const DURATION_S = Number(process.env['BENCH_DURATION_S'] ?? 5);
const WARMUP_S = 1;
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 32);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 2);

interface Target {
  url: string;
  path: string;
  token: string;
}

async function startServer(args: string[]): Promise<{ child: ChildProcess; target: Target }> {
  const entry = fileURLToPath(new URL('./serve.ts', import.meta.url));
  const child = spawn(process.execPath, ['--conditions=@voltkit/source', '--import', 'tsx', entry, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const target = await new Promise<Target>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start within 30 s')), 30_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line) as Target);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { child, target };
}

function get(target: Target): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${target.url}${target.path}`,
      { headers: { authorization: `Bearer ${target.token}` } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Keep-alive connections, one request in flight on each (no pipelining), warm-up then a timed run. */
interface Measurement {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function measure(target: Target): Promise<Measurement> {
  const options = {
    url: `${target.url}${target.path}`,
    connections: CONNECTIONS,
    pipelining: 1,
    headers: { authorization: `Bearer ${target.token}` },
  };
  await autocannon({ ...options, duration: WARMUP_S });
  const result = await autocannon({ ...options, duration: DURATION_S });
  return {
    rps: result['2xx'] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
  };
}

const sim = await startServer(['sim']);
try {
  const sample = await get(sim.target);
  if (sample.status !== 200) throw new Error(`battery answered ${sample.status}: ${sample.body}`);
  const bare = await startServer(['bare', sample.body]);
  try {
    // Alternate the two servers and keep each one's best round: other work on a shared machine then
    // penalises both alike instead of whichever happened to run during a burst.
    const best = (a: Measurement | undefined, b: Measurement) => (a === undefined || b.rps > a.rps ? b : a);
    let simResult: Measurement | undefined;
    let bareResult: Measurement | undefined;
    for (let round = 0; round < ROUNDS; round++) {
      simResult = best(simResult, await measure(sim.target));
      bareResult = best(bareResult, await measure(bare.target));
    }
    if (simResult === undefined || bareResult === undefined) throw new Error('no measurement');
    const fmt = (r: Measurement) =>
      `${Math.round(r.rps).toString().padStart(7)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  errors ${r.errors}`;
    process.stdout.write(
      [
        `GET battery, keep-alive, ${CONNECTIONS} connections (autocannon), best of ${ROUNDS} alternating rounds of ${DURATION_S} s after ${WARMUP_S} s warm-up, each server in its own process`,
        `simulator       ${fmt(simResult)}`,
        `bare node:http  ${fmt(bareResult)}`,
        `ratio simulator/bare: ${(simResult.rps / bareResult.rps).toFixed(2)}   goal ≥ 5000 req/s: ${simResult.rps >= 5000 ? 'met' : 'NOT met'}`,
        '',
      ].join('\n'),
    );
  } finally {
    bare.child.kill('SIGTERM');
  }
} finally {
  sim.child.kill('SIGTERM');
}
