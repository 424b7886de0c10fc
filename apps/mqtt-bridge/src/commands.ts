import { z } from 'zod';
import { DEPARTURE_TIME, SMART_CHARGING_MODES } from './smart-charging-link.ts';
import type { PreferenceChange, SmartChargingMode } from './smart-charging-link.ts';
import type { CommandName } from './topics.ts';
import type { VehicleCommand } from './vehicle-source.ts';

/** A parsed command: a vehicle command, or a refresh (read now, even if the car sleeps). */
export type ParsedCommand =
  | {
      readonly kind: 'vehicle';
      readonly command: VehicleCommand;
      readonly value: string | number;
      readonly transaction?: string;
    }
  | { readonly kind: 'refresh'; readonly value: string; readonly transaction?: string }
  | {
      readonly kind: 'smart';
      readonly change: SmartChange;
      readonly value: string | number;
      readonly transaction?: string;
    };

/** A change to the car's smart charging (sent to the service, never to the car). */
export type SmartChange =
  | { readonly kind: 'mode'; readonly mode: SmartChargingMode }
  | { readonly kind: 'preferences'; readonly change: PreferenceChange };

export type ParseResult =
  { ok: true; command: ParsedCommand } | { ok: false; error: string; transaction?: string };

/** Numbers are taken exactly as sent (no trimming, no coercion). */
const NUMERIC_COMMANDS: ReadonlySet<CommandName> = new Set(['charge_limit', 'target_soc', 'minimum_soc']);

export const CHARGE_LIMIT_MIN = 50;
/** What the service accepts: a target of at least 5 %, a minimum from 0 %. */
export const TARGET_SOC_MIN = 5;
export const CHARGE_LIMIT_MAX = 100;

/** JSON form for programmatic clients: {"value": ..., "transaction": "..."}; `state` is accepted as an alias. */
const JsonEnvelopeSchema = z
  .object({
    value: z.union([z.string(), z.number(), z.boolean()]).optional(),
    state: z.union([z.string(), z.number(), z.boolean()]).optional(),
    transaction: z.string().max(128).optional(),
  })
  .strict();

const OnOffSchema = z.union([
  z.boolean(),
  z
    .string()
    .trim()
    .toUpperCase()
    .pipe(z.enum(['ON', 'OFF', 'TRUE', 'FALSE', 'START', 'STOP'])),
]);

/** Plain decimal digits only: `0x50`, `1e2`, ` 80`, `+80`, `80abc` are refused, not coerced. */
const DECIMAL_INTEGER = /^[0-9]{1,3}$/;

/** Shows a refused payload in an error without letting a huge or binary one through. */
function quoted(value: string): string {
  const shown = value.length > 24 ? `${value.slice(0, 24)}…` : value;
  return JSON.stringify(shown);
}

/** A whole percentage in [min, max], as a JSON number or plain decimal digits. */
function parseWholePercent(
  raw: unknown,
  min: number,
  max: number,
): { ok: true; percent: number } | { ok: false; error: string } {
  const CHARGE_LIMIT_ALLOWED = `a whole number from ${min} to ${max} in decimal digits, e.g. 80`;
  let percent: number;
  if (typeof raw === 'number') {
    // A JSON number is unambiguous, but it must still be a whole percentage.
    if (!Number.isInteger(raw)) return { ok: false, error: `expected ${CHARGE_LIMIT_ALLOWED}, got ${raw}` };
    percent = raw;
  } else if (typeof raw === 'string') {
    if (!DECIMAL_INTEGER.test(raw))
      return { ok: false, error: `expected ${CHARGE_LIMIT_ALLOWED}, got ${quoted(raw)}` };
    percent = Number.parseInt(raw, 10);
  } else {
    return { ok: false, error: `expected ${CHARGE_LIMIT_ALLOWED}, got ${String(raw)}` };
  }
  if (percent < min || percent > max)
    return { ok: false, error: `${percent} is out of range; expected ${CHARGE_LIMIT_ALLOWED}` };
  return { ok: true, percent };
}

const LockSchema = z
  .string()
  .trim()
  .toUpperCase()
  .pipe(z.enum(['LOCK', 'UNLOCK']));
const PressSchema = z
  .string()
  .trim()
  .toUpperCase()
  .pipe(z.enum(['PRESS', 'REFRESH', '']));

/**
 * Parses a command payload. Plain payloads are what Home Assistant sends (`ON`, `80`, `LOCK`, `PRESS`);
 * JSON envelopes carry an optional transaction id that is echoed in the result.
 */
export function parseCommand(name: CommandName, payload: Buffer): ParseResult {
  if (payload.length > 1024) return { ok: false, error: `${name}: payload too large (max 1024 bytes)` };
  const untrimmed = payload.toString('utf8');
  const text = untrimmed.trim();
  // Keywords may carry stray whitespace; numbers are taken exactly as sent.
  let raw: unknown = NUMERIC_COMMANDS.has(name) ? untrimmed : text;
  let transaction: string | undefined;
  if (text.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { ok: false, error: `${name}: payload is not valid JSON` };
    }
    const envelope = JsonEnvelopeSchema.safeParse(json);
    if (!envelope.success) {
      const issue = envelope.error.issues[0];
      return {
        ok: false,
        error: `${name}: invalid JSON command: ${issue?.path.join('.') || 'payload'}: ${issue?.message ?? 'invalid'} (allowed keys: value, state, transaction)`,
      };
    }
    transaction = envelope.data.transaction;
    raw = envelope.data.value ?? envelope.data.state ?? (name === 'refresh' ? 'PRESS' : undefined);
    if (raw === undefined)
      return {
        ok: false,
        error: `${name}: JSON command needs a "value"`,
        ...(transaction ? { transaction } : {}),
      };
  }
  const withTx = <T extends object>(value: T): T & { transaction?: string } =>
    transaction ? { ...value, transaction } : value;
  const fail = (error: string): ParseResult => ({
    ok: false,
    error: `${name}: ${error}`,
    ...(transaction ? { transaction } : {}),
  });

  switch (name) {
    case 'charging': {
      const parsed = OnOffSchema.safeParse(raw);
      if (!parsed.success) return fail('expected ON or OFF');
      const on =
        parsed.data === true || parsed.data === 'ON' || parsed.data === 'TRUE' || parsed.data === 'START';
      return {
        ok: true,
        command: withTx({
          kind: 'vehicle',
          command: { kind: on ? 'startCharge' : 'stopCharge' },
          value: on ? 'ON' : 'OFF',
        }),
      };
    }
    case 'charge_limit': {
      const parsed = parseWholePercent(raw, CHARGE_LIMIT_MIN, CHARGE_LIMIT_MAX);
      if (!parsed.ok) return fail(parsed.error);
      return {
        ok: true,
        command: withTx({
          kind: 'vehicle',
          command: { kind: 'setChargeLimit', percent: parsed.percent },
          value: parsed.percent,
        }),
      };
    }
    case 'lock': {
      const parsed = LockSchema.safeParse(raw);
      if (!parsed.success) return fail('expected LOCK or UNLOCK');
      return {
        ok: true,
        command: withTx({
          kind: 'vehicle',
          command: { kind: parsed.data === 'LOCK' ? 'lock' : 'unlock' },
          value: parsed.data,
        }),
      };
    }
    case 'refresh': {
      const parsed = PressSchema.safeParse(typeof raw === 'string' ? raw : String(raw));
      if (!parsed.success) return fail('expected PRESS');
      return { ok: true, command: withTx({ kind: 'refresh', value: 'PRESS' }) };
    }
    case 'smart_charging_mode': {
      const mode = typeof raw === 'string' ? raw.trim().toLowerCase() : raw;
      if (!(SMART_CHARGING_MODES as readonly unknown[]).includes(mode))
        return fail(`expected one of ${SMART_CHARGING_MODES.join(', ')}`);
      return {
        ok: true,
        command: withTx({
          kind: 'smart',
          change: { kind: 'mode', mode: mode as SmartChargingMode },
          value: mode as string,
        }),
      };
    }
    case 'target_soc':
    case 'minimum_soc': {
      const parsed = parseWholePercent(raw, name === 'target_soc' ? TARGET_SOC_MIN : 0, 100);
      if (!parsed.ok) return fail(parsed.error);
      const change: PreferenceChange =
        name === 'target_soc' ? { targetSocPercent: parsed.percent } : { minimumSocPercent: parsed.percent };
      return {
        ok: true,
        command: withTx({ kind: 'smart', change: { kind: 'preferences', change }, value: parsed.percent }),
      };
    }
    case 'departure_time': {
      const time = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
      if (time !== 'off' && !DEPARTURE_TIME.test(time))
        return fail('expected a time of day as HH:MM (24 h, e.g. 07:30) or "off" for no departures');
      return {
        ok: true,
        command: withTx({
          kind: 'smart',
          change: { kind: 'preferences', change: { departureTime: time === 'off' ? null : time } },
          value: time,
        }),
      };
    }
  }
}

/** Result payload on `<base>/<vid>/<command>/result`. */
export interface CommandResult {
  /** superseded: a newer command of the same kind replaced it in the car's queue before it ran. */
  readonly status: 'pending' | 'ok' | 'error' | 'superseded';
  readonly command: CommandName;
  readonly value?: string | number;
  readonly error?: string;
  readonly transaction?: string;
  readonly ts: string;
}
