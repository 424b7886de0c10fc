import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig as loadBridgeConfig, type BridgeConfig } from '@voltkit/mqtt-bridge';
import { z } from 'zod';
import { loadServiceConfig, type ServiceConfig } from '@voltkit/smart-charging';
import { DEFAULT_DATA_DIR } from './paths.ts';

export class DemoConfigError extends Error {
  override name = 'DemoConfigError';
}

const ArgsSchema = z
  .object({
    scenario: z.enum(['overnight']).optional(),
    'data-dir': z.string().min(1).optional(),
    /** Scenario only: the evening the cars arrive (18:00 Berlin), departure 07:00 the next morning. */
    night: z.iso.date().optional(),
    /** Scenario only: the feeder limit, kW. */
    'grid-limit': z.coerce.number().positive().max(1000).optional(),
    /** Scenario only: the price history to replay (CSV, aWATTar/Octopus JSON, ENTSO-E XML). */
    prices: z.string().min(1).optional(),
    /** Scenario only: `hard` makes the feeder limit hold in every minute. */
    'limit-mode': z.enum(['average', 'hard']).optional(),
    help: z.boolean().default(false),
  })
  .strict();
export type DemoArgs = z.infer<typeof ArgsSchema>;

/** The demo's own variables; the service's and the bridge's are read by their own zod configs. */
const DemoEnvSchema = z.object({
  VOLTKIT_DEMO_DATA_DIR: z.string().min(1).optional(),
  VOLTKIT_DEMO_SIMULATOR_PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  /** Simulated seconds per real second (1 = real time). */
  CLOCK_SPEED: z.coerce.number().positive().max(3600).default(1),
  /** Yearly consumption of the households on the grid connection, kWh (scales the BDEW H25 base load). */
  VOLTKIT_DEMO_BASE_LOAD_KWH: z.coerce.number().min(0).default(3500),
  /** Logs (JSON, stderr) of all three apps; `info` shows every plan and command. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('error'),
});

export const USAGE = `Usage: pnpm demo [--data-dir <dir>]
       pnpm demo --scenario overnight [--night YYYY-MM-DD] [--grid-limit <kW>] [--limit-mode hard] [--prices <file>]

  (no option)            start simulator, smart-charging service + dashboard and MQTT bridge; Ctrl-C stops
  --scenario overnight   run a scripted night on a stepped clock, print the report, exit 0 if every target was met
  --night YYYY-MM-DD     scenario: the evening the cars arrive (default 2026-11-24; prices replay that calendar day)
  --grid-limit <kW>      scenario: the feeder limit shared with five households (default 24)
  --prices <file>        scenario: the price history to replay (default: the aWATTar DE history in data/)
  --limit-mode <mode>    scenario: average (the limit holds per 15-minute slot, default) or hard (in every minute)
  --data-dir <dir>       embedded storage (default <repo>/.data/demo, or VOLTKIT_DEMO_DATA_DIR)
`;

export interface DemoConfig {
  readonly args: DemoArgs;
  readonly dataDir: string;
  readonly simulatorPort: number;
  readonly clockSpeed: number;
  readonly baseLoadKwhPerYear: number;
  readonly logLevel: z.infer<typeof DemoEnvSchema>['LOG_LEVEL'];
  readonly service: ServiceConfig;
  readonly bridge: BridgeConfig;
}

export function parseDemoArgs(argv: readonly string[]): DemoArgs {
  let values: Record<string, unknown>;
  try {
    // pnpm and npm may hand over a lone `--` before the arguments; it carries no meaning here.
    values = parseArgs({
      args: argv.filter((arg) => arg !== '--'),
      options: {
        scenario: { type: 'string' },
        'data-dir': { type: 'string' },
        night: { type: 'string' },
        'grid-limit': { type: 'string' },
        prices: { type: 'string' },
        'limit-mode': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new DemoConfigError(`${(error as Error).message}\n\n${USAGE}`);
  }
  const parsed = ArgsSchema.safeParse(values);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `--${issue.path.join('.')}: ${issue.message}`);
    throw new DemoConfigError(`${problems.join('\n')}\n\n${USAGE}`);
  }
  return parsed.data;
}

/**
 * Arguments and environment for the whole stack. The demo's own default (a 22 kW grid connection instead of
 * the service's 11 kW) applies only where the variable is unset.
 */
export function loadDemoConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): DemoConfig {
  const args = parseDemoArgs(argv);
  const demoEnv = DemoEnvSchema.safeParse(env);
  if (!demoEnv.success) {
    // Name the variables, never echo their values.
    const problems = demoEnv.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new DemoConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const withDefaults = { GRID_LIMIT_KW: '22', ...env };
  let service: ServiceConfig;
  let bridge: BridgeConfig;
  try {
    service = loadServiceConfig(withDefaults);
    bridge = loadBridgeConfig(withDefaults);
  } catch (error) {
    throw new DemoConfigError((error as Error).message, { cause: error });
  }
  return {
    args,
    dataDir: resolve(args['data-dir'] ?? demoEnv.data.VOLTKIT_DEMO_DATA_DIR ?? DEFAULT_DATA_DIR),
    simulatorPort: demoEnv.data.VOLTKIT_DEMO_SIMULATOR_PORT,
    clockSpeed: demoEnv.data.CLOCK_SPEED,
    baseLoadKwhPerYear: demoEnv.data.VOLTKIT_DEMO_BASE_LOAD_KWH,
    logLevel: demoEnv.data.LOG_LEVEL,
    service,
    bridge,
  };
}
