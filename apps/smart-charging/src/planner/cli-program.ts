/**
 * voltkit-plan as a function: arguments and output streams in, an exit code out (cli.ts is the entry).
 * Exit codes: 0 planned, 1 bad input (the message names the field), 2 bad usage.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { bdewH25Csv } from '@voltkit/data';
import packageJson from '../../package.json' with { type: 'json' };
import { PlanInputError } from './errors.ts';
import { GridError } from './grid.ts';
import { LoadProfileError } from './load-profile.ts';
import { ChargingProfileError, toChargingProfile, type ChargingRateUnit } from './ocpp.ts';
import { createPlan, OBJECTIVES, type Objective, type Plan } from './plan.ts';
import { PriceImportError } from './price-import.ts';
import { formatPlanReport, planToCsv } from './report.ts';
import { scenarioJsonSchema } from './scenario-schema.ts';
import { ScenarioError, parseScenario, resolveScenario } from './scenario.ts';
import { renderPlanSvg } from './plan-chart.ts';

/** Version of the `--format json` document; bumped only when a field changes meaning or goes away. */
export const PLAN_JSON_FORMAT = 'voltkit-plan/1';

export const HELP = `voltkit-plan ${packageJson.version} — plan EV charging for a scenario file (one car or a fleet)

usage: voltkit-plan <scenario.json> [options]
       voltkit-plan --schema | --version | --help

The scenario is a JSON file (format: voltkit-plan --schema, JSON Schema 2020-12). Files it names
(prices, TOU tariff, sessions, load profile) are read relative to it.

options:
  --format text|json   text (default): a report on stdout and files in --out;
                       json: one JSON document on stdout (${PLAN_JSON_FORMAT}, see the planner README), no files
                       unless asked for
  --out DIR            write <name>.plan.json, .plan.csv, .plan.svg, .ocpp-profiles.json into DIR
                       (default with --format text and no file option: ./<name>-plan)
  --json FILE          write the plan as JSON
  --csv FILE           write one row per slot and vehicle
  --svg FILE           write the load and price chart (the dashboard's) with legend and shortfalls
  --ocpp FILE          write OCPP 2.0.1 ChargingProfiles, one per vehicle
  --unit W|A           charging rate unit of the OCPP profiles (default W)
  --objective ${OBJECTIVES.join('|')}
                       overrides the scenario's objective
  --vehicles N         vehicles listed in the text report (default 20)
  --quiet              no report and no progress on stdout/stderr
  --schema             print the scenario JSON Schema and exit
  --version            print the version and exit
  -h, --help           print this help and exit

exit codes: 0 planned, 1 bad input (the message names the field), 2 bad usage

examples:
  voltkit-plan src/planner/examples/home-dst-night.json --out /tmp/plan
  voltkit-plan src/planner/examples/caltech-garage-tou.json --objective cost-then-peak --vehicles 5
  voltkit-plan scenario.json --format json | jq .plan.summary
  voltkit-plan --schema > scenario.schema.json
`;

const USAGE_HINT = 'run voltkit-plan --help for the options';

export interface CliStreams {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean };
  /** Where default output directories go (the process's working directory). */
  readonly cwd: string;
}

/** Fleets above this size get a progress line on stderr. */
const PROGRESS_FROM_VEHICLES = 500;

/** Errors that are the user's input, told without a stack trace. */
function inputErrorMessage(error: unknown, scenarioPath: string): string | undefined {
  if (error instanceof ScenarioError || error instanceof PlanInputError) {
    return `${scenarioPath}: invalid scenario\n${error.issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`).join('\n')}`;
  }
  if (
    error instanceof PriceImportError ||
    error instanceof GridError ||
    error instanceof LoadProfileError ||
    error instanceof ChargingProfileError
  ) {
    return `${scenarioPath}: ${error.message}`;
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') return (error as Error).message;
  return undefined;
}

export function runPlanCli(argv: readonly string[], io: CliStreams): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        json: { type: 'string' },
        csv: { type: 'string' },
        svg: { type: 'string' },
        ocpp: { type: 'string' },
        format: { type: 'string' },
        objective: { type: 'string' },
        unit: { type: 'string' },
        vehicles: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        schema: { type: 'boolean', default: false },
        version: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    io.stderr.write(`voltkit-plan: ${(error as Error).message}\n${USAGE_HINT}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (values.version) {
    io.stdout.write(`${packageJson.version}\n`);
    return 0;
  }
  if (values.schema) {
    io.stdout.write(`${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`);
    return 0;
  }
  const usage = (message: string): number => {
    io.stderr.write(`voltkit-plan: ${message}\n${USAGE_HINT}\n`);
    return 2;
  };
  const scenarioPath = positionals[0];
  if (!scenarioPath) return usage('give a scenario file');
  if (positionals.length > 1) return usage(`one scenario file at a time (got ${positionals.length})`);
  if (values.objective !== undefined && !(OBJECTIVES as readonly string[]).includes(values.objective))
    return usage(`--objective must be one of ${OBJECTIVES.join(', ')} (got "${values.objective}")`);
  if (values.unit !== undefined && values.unit !== 'W' && values.unit !== 'A')
    return usage(`--unit must be W or A (got "${values.unit}")`);
  const format = values.format ?? 'text';
  if (format !== 'text' && format !== 'json') return usage(`--format must be text or json (got "${format}")`);
  const maxVehicles = values.vehicles === undefined ? 20 : Number(values.vehicles);
  if (!Number.isInteger(maxVehicles) || maxVehicles < 0)
    return usage(`--vehicles must be a whole number ≥ 0 (got "${values.vehicles}")`);

  const absolute = resolve(io.cwd, scenarioPath);
  const baseDir = dirname(absolute);
  const stem = basename(absolute).replace(/\.json$/i, '');
  try {
    const scenario = parseScenario(readFileSync(absolute, 'utf8'));
    const resolved = resolveScenario(
      scenario,
      (file) => readFileSync(resolve(baseDir, file), 'utf8'),
      () => readFileSync(bdewH25Csv, 'utf8'),
    );
    let { request } = resolved;
    if (values.objective) request = { ...request, objective: values.objective as Objective };

    const showProgress =
      !values.quiet && request.vehicles.length >= PROGRESS_FROM_VEHICLES && io.stderr.isTTY !== false;
    const started = performance.now();
    const plan = createPlan(request, {
      ...(resolved.profile ? { profile: resolved.profile } : {}),
      ...(showProgress
        ? {
            onProgress: (stage: string, done: number, total: number) => {
              io.stderr.write(
                stage === 'solving'
                  ? `\rplanning ${request.vehicles.length} vehicles: slot ${done}/${total}   `
                  : `\rplanning ${request.vehicles.length} vehicles: done after ${total} LP solves\n`,
              );
            },
          }
        : {}),
    });
    const seconds = (performance.now() - started) / 1000;

    const anyFile = values.json || values.csv || values.svg || values.ocpp;
    const outDir = values.out ?? (anyFile || format === 'json' ? undefined : join(io.cwd, `${stem}-plan`));
    const target = (explicit: string | undefined, name: string): string | undefined =>
      explicit !== undefined
        ? resolve(io.cwd, explicit)
        : outDir
          ? join(resolve(io.cwd, outDir), `${stem}.${name}`)
          : undefined;
    const outputs = {
      json: target(values.json, 'plan.json'),
      csv: target(values.csv, 'plan.csv'),
      svg: target(values.svg, 'plan.svg'),
      ocpp: target(values.ocpp, 'ocpp-profiles.json'),
    };
    const write = (file: string | undefined, text: () => string): void => {
      if (!file) return;
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text());
    };
    const document = () => planDocument(plan, scenario.name, scenarioPath);
    write(outputs.json, () => `${JSON.stringify(document(), null, 1)}\n`);
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

    if (format === 'json') {
      io.stdout.write(`${JSON.stringify(document(), null, 1)}\n`);
    } else if (!values.quiet) {
      io.stdout.write(`${formatPlanReport(plan, { maxVehicles })}\n\nplanned in ${seconds.toFixed(2)} s\n`);
      for (const [kind, file] of Object.entries(outputs))
        if (file) io.stdout.write(`wrote ${kind}: ${file}\n`);
    }
    return 0;
  } catch (error) {
    const message = inputErrorMessage(error, scenarioPath);
    if (message === undefined) throw error;
    io.stderr.write(`${message}\n`);
    return 1;
  }
}

/** The `--format json` document (and the --json file): a format tag, where it came from, the plan. */
export function planDocument(
  plan: Plan,
  name: string | undefined,
  scenarioFile: string,
): { format: string; scenario: { name: string | null; file: string }; plan: Plan } {
  return { format: PLAN_JSON_FORMAT, scenario: { name: name ?? null, file: scenarioFile }, plan };
}
