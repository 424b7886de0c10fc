// Requests per second of GET /v2.0/vehicles/{id}/battery with keep-alive, the simulator running alone in
// its own process (one core), against the physical limit of the same exchange: a bare node:http server
// that checks the same path and bearer token and answers the same bytes (headers, framing, body length).
// The two alternate in rounds; each round's ratio compares neighbours in time, so the median of the
// rounds' ratios is what a busy shared machine disturbs least.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const DURATION_S = Number(process.env['BENCH_DURATION_S'] ?? 3);
const WARMUP_S = 1;
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 32);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 6);
const GOAL = 0.85;

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

async function measure(target: Target, pid: number | undefined, durationS: number): Promise<Measurement> {
  const cpuBefore = processCpuUs(pid);
  const result = await autocannon({
    url: `${target.url}${target.path}`,
    connections: CONNECTIONS,
    pipelining: 1,
    headers: { authorization: `Bearer ${target.token}` },
    duration: durationS,
  });
  const cpuUs = processCpuUs(pid) - cpuBefore;
  return {
    rps: result['2xx'] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
    cpuUs: cpuUs / Math.max(1, result['2xx']),
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const sim = await startServer(['sim']);
try {
  const sample = await get(sim.target);
  if (sample.status !== 200) throw new Error(`battery answered ${sample.status}: ${sample.body}`);
  const bare = await startServer(['bare', sample.body, sim.target.path, sim.target.token]);
  try {
    const check = await get(bare.target);
    if (check.status !== 200 || check.body.length !== sample.body.length)
      throw new Error(`the bare peer answered ${check.status} with ${check.body.length} bytes`);
    const servers = { sim, bare } as const;
    const rounds = { sim: [] as Measurement[], bare: [] as Measurement[] };
    for (const which of ['sim', 'bare'] as const) {
      const { target, child } = servers[which];
      await measure(target, child.pid, WARMUP_S);
    }
    const loadBefore = loadavg()[0] ?? 0;
    for (let round = 0; round < ROUNDS; round++) {
      // The order swaps every round, so neither always runs right after the other's burst.
      const order = round % 2 === 0 ? (['sim', 'bare'] as const) : (['bare', 'sim'] as const);
      for (const which of order) {
        const { target, child } = servers[which];
        rounds[which].push(await measure(target, child.pid, DURATION_S));
      }
    }
    const loadAfter = loadavg()[0] ?? 0;
    const ratios = rounds.sim.map((m, i) => m.rps / rounds.bare[i]!.rps);
    const best = (all: Measurement[]) => all.reduce((a, b) => (b.rps > a.rps ? b : a));
    const fmt = (all: Measurement[]) => {
      const r = best(all);
      const cpu = median(all.map((m) => m.cpuUs));
      const errors = all.reduce((sum, m) => sum + m.errors, 0);
      return `${Math.round(median(all.map((m) => m.rps)))
        .toString()
        .padStart(
          7,
        )} req/s median, ${Math.round(r.rps).toString().padStart(7)} best  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  errors ${errors}  server CPU ${cpu.toFixed(1)} µs/request`;
    };
    const ratio = median(ratios);
    const cpuRatio = median(rounds.sim.map((m, i) => m.cpuUs / rounds.bare[i]!.cpuUs));
    process.stdout.write(
      [
        `GET battery, keep-alive, ${CONNECTIONS} connections (autocannon), ${ROUNDS} alternating rounds of ${DURATION_S} s after ${WARMUP_S} s warm-up, each server in its own process, node ${process.version}`,
        `load average (1 min) ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after`,
        `simulator       ${fmt(rounds.sim)}`,
        `bare node:http  ${fmt(rounds.bare)}`,
        `ratio simulator/bare node:http: ${ratio.toFixed(2)} median of ${ROUNDS} rounds (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}; best/best ${(best(rounds.sim).rps / best(rounds.bare).rps).toFixed(2)})   (goal ≥ ${GOAL}: ${ratio >= GOAL ? 'met' : 'NOT met'})`,
        `server CPU per request simulator/bare: ${cpuRatio.toFixed(2)}× (median of rounds)`,
        '',
      ].join('\n'),
    );
  } finally {
    bare.child.kill('SIGTERM');
  }
} finally {
  sim.child.kill('SIGTERM');
}
