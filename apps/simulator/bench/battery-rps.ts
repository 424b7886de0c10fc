// Requests per second of GET /v2.0/vehicles/{id}/battery with keep-alive, the simulator running alone in
// its own process (one core), against a bare node:http server returning the same body as the peer.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
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
  /** CPU time of the server process per request, in µs (Linux /proc), NaN where unavailable. */
  cpuUs: number;
}

/** User + system CPU of a process in µs, from /proc/<pid>/stat (clock ticks of 10 ms). */
function processCpuUs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return Number.NaN;
  }
}

async function measure(target: Target, pid: number | undefined): Promise<Measurement> {
  const options = {
    url: `${target.url}${target.path}`,
    connections: CONNECTIONS,
    pipelining: 1,
    headers: { authorization: `Bearer ${target.token}` },
  };
  await autocannon({ ...options, duration: WARMUP_S });
  const cpuBefore = processCpuUs(pid);
  const result = await autocannon({ ...options, duration: DURATION_S });
  const cpuUs = processCpuUs(pid) - cpuBefore;
  return {
    rps: result['2xx'] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
    cpuUs: cpuUs / Math.max(1, result['2xx']),
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
    let simCpu = Number.POSITIVE_INFINITY;
    let bareCpu = Number.POSITIVE_INFINITY;
    const loadBefore = loadavg()[0] ?? 0;
    for (let round = 0; round < ROUNDS; round++) {
      // The order swaps every round, so neither always runs right after the other's burst.
      const order = round % 2 === 0 ? (['sim', 'bare'] as const) : (['bare', 'sim'] as const);
      for (const which of order) {
        if (which === 'sim') {
          const m = await measure(sim.target, sim.child.pid);
          simResult = best(simResult, m);
          simCpu = Math.min(simCpu, m.cpuUs);
        } else {
          const m = await measure(bare.target, bare.child.pid);
          bareResult = best(bareResult, m);
          bareCpu = Math.min(bareCpu, m.cpuUs);
        }
      }
    }
    const loadAfter = loadavg()[0] ?? 0;
    if (simResult === undefined || bareResult === undefined) throw new Error('no measurement');
    const fmt = (r: Measurement, cpu: number) =>
      `${Math.round(r.rps).toString().padStart(7)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  errors ${r.errors}  server CPU ${cpu.toFixed(1)} µs/request`;
    const ratio = simResult.rps / bareResult.rps;
    process.stdout.write(
      [
        `GET battery, keep-alive, ${CONNECTIONS} connections (autocannon), best of ${ROUNDS} alternating rounds of ${DURATION_S} s after ${WARMUP_S} s warm-up, each server in its own process`,
        `load average (1 min) ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after`,
        `simulator       ${fmt(simResult, simCpu)}`,
        `bare node:http  ${fmt(bareResult, bareCpu)}`,
        `ratio simulator/bare: ${ratio.toFixed(2)}   (goal ≥ 0.85: ${ratio >= 0.85 ? 'met' : 'NOT met'})`,
        `server CPU per request simulator/bare: ${(simCpu / bareCpu).toFixed(2)}×`,
        '',
      ].join('\n'),
    );
  } finally {
    bare.child.kill('SIGTERM');
  }
} finally {
  sim.child.kill('SIGTERM');
}
