/**
 * voltkit-plan: plan charging for a scenario file and write the plan.
 *
 *   voltkit-plan <scenario.json> [--out DIR] [--json FILE] [--csv FILE] [--svg FILE] [--ocpp FILE]
 *                [--objective cost|peak|cost-then-peak] [--unit W|A] [--vehicles N] [--quiet]
 *
 * Files named in the scenario are read relative to it. Exit codes: 0 ok, 1 bad input, 2 usage.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { bdewH25Csv } from '@voltkit/data';
import { toChargingProfile, type ChargingRateUnit } from './ocpp.ts';
import { createPlan, OBJECTIVES, type Objective } from './plan.ts';
import { formatPlanReport, planToCsv } from './report.ts';
import { ScenarioError, parseScenario, resolveScenario } from './scenario.ts';
import { renderPlanSvg } from './svg-chart.ts';

const USAGE = `usage: voltkit-plan <scenario.json> [--out DIR] [--json FILE] [--csv FILE] [--svg FILE] [--ocpp FILE]
                    [--objective ${OBJECTIVES.join('|')}] [--unit W|A] [--vehicles N] [--quiet]`;

/** Fleets above this size get a progress line on stderr. */
const PROGRESS_FROM_VEHICLES = 500;

function main(argv: string[]): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        json: { type: 'string' },
        csv: { type: 'string' },
        svg: { type: 'string' },
        ocpp: { type: 'string' },
        objective: { type: 'string' },
        unit: { type: 'string' },
        vehicles: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const scenarioPath = positionals[0];
  if (!scenarioPath || positionals.length > 1) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  if (values.objective !== undefined && !(OBJECTIVES as readonly string[]).includes(values.objective)) {
    process.stderr.write(`--objective must be one of ${OBJECTIVES.join(', ')}\n`);
    return 2;
  }
  if (values.unit !== undefined && values.unit !== 'W' && values.unit !== 'A') {
    process.stderr.write('--unit must be W or A\n');
    return 2;
  }
  const absolute = resolve(scenarioPath);
  const baseDir = dirname(absolute);
  let request;
  let profile;
  try {
    const scenario = parseScenario(readFileSync(absolute, 'utf8'));
    ({ request, profile } = resolveScenario(
      scenario,
      (file) => readFileSync(resolve(baseDir, file), 'utf8'),
      () => readFileSync(bdewH25Csv, 'utf8'),
    ));
  } catch (error) {
    if (error instanceof ScenarioError) {
      process.stderr.write(
        `${scenarioPath}: invalid scenario\n${error.issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`).join('\n')}\n`,
      );
      return 1;
    }
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      process.stderr.write(`${(error as Error).message}\n`);
      return 1;
    }
    throw error;
  }
  if (values.objective) request = { ...request, objective: values.objective as Objective };

  const showProgress =
    !values.quiet && request.vehicles.length >= PROGRESS_FROM_VEHICLES && process.stderr.isTTY !== false;
  const started = performance.now();
  const plan = createPlan(request, {
    ...(profile ? { profile } : {}),
    ...(showProgress
      ? {
          onProgress: (stage: string, done: number, total: number) => {
            process.stderr.write(
              stage === 'solving'
                ? `\rplanning ${request.vehicles.length} vehicles: slot ${done}/${total}   `
                : `\rplanning ${request.vehicles.length} vehicles: done after ${total} LP solves\n`,
            );
          },
        }
      : {}),
  });
  const seconds = (performance.now() - started) / 1000;

  const stem = basename(absolute).replace(/\.json$/i, '');
  const outDir =
    values.out ??
    (values.json || values.csv || values.svg || values.ocpp
      ? undefined
      : join(process.cwd(), `${stem}-plan`));
  const target = (explicit: string | undefined, name: string): string | undefined =>
    explicit ?? (outDir ? join(outDir, `${stem}.${name}`) : undefined);
  const outputs = {
    json: target(values.json, 'plan.json'),
    csv: target(values.csv, 'plan.csv'),
    svg: target(values.svg, 'plan.svg'),
    ocpp: target(values.ocpp, 'ocpp-profiles.json'),
  };
  const write = (file: string | undefined, text: () => string): void => {
    if (!file) return;
    mkdirSync(dirname(resolve(file)), { recursive: true });
    writeFileSync(file, text());
  };
  write(outputs.json, () => `${JSON.stringify(plan, null, 1)}\n`);
  write(outputs.csv, () => planToCsv(plan));
  write(outputs.svg, () => renderPlanSvg(plan, { title: `${request.objective} plan — ${stem}` }));
  write(outputs.ocpp, () => {
    const profiles = plan.vehicles.map((v, k) => {
      const vehicle = request.vehicles[k]!;
      return {
        vehicleId: v.id,
        evseId: vehicle.evseId ?? k + 1,
        chargingProfile: toChargingProfile(plan, v, {
          id: k + 1,
          unit: (values.unit as ChargingRateUnit | undefined) ?? 'W',
          voltage: vehicle.voltage,
          phases: vehicle.phases,
          minPowerKw: vehicle.minPowerKw,
          ...(vehicle.transactionId ? { transactionId: vehicle.transactionId } : {}),
        }),
      };
    });
    return `${JSON.stringify(profiles, null, 1)}\n`;
  });

  if (!values.quiet) {
    const maxVehicles = values.vehicles === undefined ? 20 : Number(values.vehicles);
    process.stdout.write(
      `${formatPlanReport(plan, { maxVehicles })}\n\nplanned in ${seconds.toFixed(2)} s\n`,
    );
    for (const [kind, file] of Object.entries(outputs))
      if (file) process.stdout.write(`wrote ${kind}: ${file}\n`);
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
