import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseCommand } from './commands.ts';

const p = (name: Parameters<typeof parseCommand>[0], payload: string) =>
  parseCommand(name, Buffer.from(payload));

describe('parseCommand', () => {
  it('accepts what Home Assistant sends', () => {
    expect(p('charging', 'ON')).toEqual({
      ok: true,
      command: { kind: 'vehicle', command: { kind: 'startCharge' }, value: 'ON' },
    });
    expect(p('charging', 'off')).toMatchObject({ ok: true, command: { command: { kind: 'stopCharge' } } });
    expect(p('charge_limit', '80')).toMatchObject({
      ok: true,
      command: { command: { kind: 'setChargeLimit', percent: 80 } },
    });
    expect(p('lock', 'UNLOCK')).toMatchObject({ ok: true, command: { command: { kind: 'unlock' } } });
    expect(p('refresh', 'PRESS')).toMatchObject({ ok: true, command: { kind: 'refresh' } });
  });

  it('accepts JSON envelopes and echoes the transaction', () => {
    expect(p('charge_limit', '{"value":90,"transaction":"t1"}')).toMatchObject({
      ok: true,
      command: { command: { kind: 'setChargeLimit', percent: 90 }, transaction: 't1' },
    });
    expect(p('charging', '{"state":true}')).toMatchObject({
      ok: true,
      command: { command: { kind: 'startCharge' } },
    });
  });

  it.each([
    ['charging', 'MAYBE', /expected ON or OFF/],
    ['charge_limit', 'eighty', /decimal digits/],
    ['charge_limit', '101', /out of range/],
    ['charge_limit', '49', /from 50 to 100/],
    ['charge_limit', '80.5', /whole number/],
    ['charge_limit', ' ', /decimal digits/],
    // Strict decimal: what Number() would coerce is refused (issue 12).
    ['charge_limit', '0x50', /decimal digits, e.g. 80, got "0x50"/],
    ['charge_limit', '1e2', /decimal digits/],
    ['charge_limit', ' 80', /decimal digits/],
    ['charge_limit', '80 ', /decimal digits/],
    ['charge_limit', '80abc', /decimal digits/],
    ['charge_limit', '+80', /decimal digits/],
    ['charge_limit', '0b1010000', /decimal digits/],
    ['charge_limit', '８０', /decimal digits/],
    ['charge_limit', '{"value":"0x50"}', /decimal digits/],
    ['charge_limit', '{"value":80.5}', /whole number/],
    ['charge_limit', '{"value":true}', /decimal digits/],
    ['lock', 'OPEN', /expected LOCK or UNLOCK/],
    ['refresh', 'NOW', /expected PRESS/],
    ['charging', '{"value":', /not valid JSON/],
    ['charging', '{"value":"ON","extra":1}', /invalid JSON command/],
    ['charge_limit', '{"transaction":"t9"}', /needs a "value"/],
  ] as const)('rejects %s %j', (name, payload, message) => {
    const result = p(name, payload);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(message);
  });

  it('keeps the transaction of a rejected JSON command', () => {
    expect(p('charge_limit', '{"value":20,"transaction":"t2"}')).toMatchObject({
      ok: false,
      transaction: 't2',
    });
  });

  it('refuses oversized payloads', () => {
    expect(p('lock', 'L'.repeat(2000)).ok).toBe(false);
  });
});

describe('parseCommand, property-based', () => {
  const names = ['charging', 'charge_limit', 'lock', 'refresh'] as const;

  it('never throws, and either accepts a documented value or names the command and what is allowed', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...names),
        fc.oneof(
          fc.uint8Array({ maxLength: 1100 }).map((b) => Buffer.from(b)),
          fc.string({ unit: 'grapheme', maxLength: 40 }).map((t) => Buffer.from(t)),
          fc.json({ maxDepth: 2 }).map((t) => Buffer.from(t)),
          fc
            .record({
              value: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.boolean()),
              transaction: fc.string({ maxLength: 130 }),
            })
            .map((o) => Buffer.from(JSON.stringify(o))),
        ),
        (name, payload) => {
          const result = parseCommand(name, payload);
          if (!result.ok) {
            expect(result.error.startsWith(`${name}: `)).toBe(true);
            return;
          }
          const command = result.command;
          if (name === 'refresh') expect(command.kind).toBe('refresh');
          if (name === 'charge_limit') {
            expect(Number.isInteger(command.value)).toBe(true);
            expect(command.value).toBeGreaterThanOrEqual(50);
            expect(command.value).toBeLessThanOrEqual(100);
          }
          if (name === 'charging') expect(['ON', 'OFF']).toContain(command.value);
          if (name === 'lock') expect(['LOCK', 'UNLOCK']).toContain(command.value);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('accepts a plain charge limit exactly when it is 50..100 in decimal digits', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 6 }), (text) => {
        const result = p('charge_limit', text);
        const strict = /^[0-9]{1,3}$/.test(text) && Number(text) >= 50 && Number(text) <= 100;
        expect(result.ok).toBe(strict);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('smart-charging commands', () => {
  const parse = (name: Parameters<typeof parseCommand>[0], payload: string) =>
    parseCommand(name, Buffer.from(payload));

  it('accepts what HA sends for the mode, targets and departure', () => {
    expect(parse('smart_charging_mode', 'now')).toMatchObject({
      ok: true,
      command: { kind: 'smart', change: { kind: 'mode', mode: 'now' } },
    });
    expect(parse('target_soc', '85')).toMatchObject({
      ok: true,
      command: { change: { kind: 'preferences', change: { targetSocPercent: 85 } } },
    });
    expect(parse('minimum_soc', '0')).toMatchObject({
      ok: true,
      command: { change: { change: { minimumSocPercent: 0 } } },
    });
    expect(parse('departure_time', '06:45')).toMatchObject({
      ok: true,
      command: { change: { change: { departureTime: '06:45' } } },
    });
    expect(parse('departure_time', 'off')).toMatchObject({
      ok: true,
      command: { change: { change: { departureTime: null } } },
    });
    expect(parse('target_soc', '{"value":70,"transaction":"t1"}')).toMatchObject({
      ok: true,
      command: { transaction: 't1', value: 70 },
    });
  });

  it('refuses anything else, naming what is allowed', () => {
    expect(parse('smart_charging_mode', 'eco')).toMatchObject({
      ok: false,
      error: expect.stringContaining('smart, now, off'),
    });
    expect(parse('target_soc', '4')).toMatchObject({ ok: false, error: expect.stringContaining('5 to 100') });
    expect(parse('target_soc', '80.5').ok).toBe(false);
    expect(parse('minimum_soc', '101').ok).toBe(false);
    for (const time of ['7:30', '24:00', '07:60', 'tomorrow', ''])
      expect(parse('departure_time', time)).toMatchObject({
        ok: false,
        error: expect.stringContaining('HH:MM'),
      });
  });
});
