import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** `capacity:refillPerMinute`, e.g. `120:2` (Smartcar's default app bucket). */
const RateLimitEnv = z
  .string()
  .regex(/^\d+:\d+(\.\d+)?$/, 'must look like <capacity>:<refill per minute>, e.g. 120:2')
  .transform((value) => {
    const [capacity = '0', refill = '0'] = value.split(':');
    return { capacity: Number(capacity), refillPerMinute: Number(refill) };
  })
  .pipe(z.object({ capacity: z.number().int().positive(), refillPerMinute: z.number().positive() }));

/** Environment of the `voltkit-simulator` command, parsed at start; a bad value names its variable. */
export const ConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).optional(),
  CLOCK_SPEED: z.coerce.number().positive().max(1_000_000).default(1),
  SIMULATOR_MANAGEMENT_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  APP_RATE_LIMIT: RateLimitEnv.optional(),
  VEHICLE_RATE_LIMIT: RateLimitEnv.optional(),
});
export type Config = z.infer<typeof ConfigSchema>;

export function parseConfig(env: Record<string, string | undefined>): Config {
  // Empty variables count as unset, as shells and .env files often leave them.
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const result = ConfigSchema.safeParse(present);
  if (result.success) return result.data;
  const problems = result.error.issues
    .map((issue) => `  ${issue.path.join('.')}: ${issue.message}`)
    .join('\n');
  throw new Error(`invalid simulator configuration:\n${problems}`);
}
