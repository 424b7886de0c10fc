import { z } from 'zod';
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
  | { readonly kind: 'refresh'; readonly value: string; readonly transaction?: string };

export type ParseResult =
  { ok: true; command: ParsedCommand } | { ok: false; error: string; transaction?: string };

export const CHARGE_LIMIT_MIN = 50;
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

const ChargeLimitSchema = z.coerce
  .number({ error: 'must be a number' })
  .int('must be a whole percentage')
  .min(CHARGE_LIMIT_MIN, `must be at least ${CHARGE_LIMIT_MIN}`)
  .max(CHARGE_LIMIT_MAX, `must be at most ${CHARGE_LIMIT_MAX}`);

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

function firstMessage(error: z.ZodError): string {
  return error.issues[0]?.message ?? 'invalid value';
}

/**
 * Parses a command payload. Plain payloads are what Home Assistant sends (`ON`, `80`, `LOCK`, `PRESS`);
 * JSON envelopes carry an optional transaction id that is echoed in the result.
 */
export function parseCommand(name: CommandName, payload: Buffer): ParseResult {
  if (payload.length > 1024) return { ok: false, error: 'payload too large (max 1024 bytes)' };
  const text = payload.toString('utf8').trim();
  let raw: unknown = text;
  let transaction: string | undefined;
  if (text.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { ok: false, error: 'payload is not valid JSON' };
    }
    const envelope = JsonEnvelopeSchema.safeParse(json);
    if (!envelope.success) {
      const issue = envelope.error.issues[0];
      return {
        ok: false,
        error: `invalid JSON command: ${issue?.path.join('.') || 'payload'}: ${issue?.message ?? 'invalid'}`,
      };
    }
    transaction = envelope.data.transaction;
    raw = envelope.data.value ?? envelope.data.state ?? (name === 'refresh' ? 'PRESS' : undefined);
    if (raw === undefined)
      return { ok: false, error: 'JSON command needs a "value"', ...(transaction ? { transaction } : {}) };
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
      if (typeof raw === 'string' && raw.trim() === '') return fail('expected a percentage');
      const parsed = ChargeLimitSchema.safeParse(typeof raw === 'string' ? raw.trim() : raw);
      if (!parsed.success) return fail(firstMessage(parsed.error));
      return {
        ok: true,
        command: withTx({
          kind: 'vehicle',
          command: { kind: 'setChargeLimit', percent: parsed.data },
          value: parsed.data,
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
  }
}

/** Result payload on `<base>/<vid>/<command>/result`. */
export interface CommandResult {
  readonly status: 'pending' | 'ok' | 'error';
  readonly command: CommandName;
  readonly value?: string | number;
  readonly error?: string;
  readonly transaction?: string;
  readonly ts: string;
}
