import { describe, expect, it } from 'vitest';
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
    ['charge_limit', 'eighty', /must be a number/],
    ['charge_limit', '101', /at most 100/],
    ['charge_limit', '49', /at least 50/],
    ['charge_limit', '80.5', /whole percentage/],
    ['charge_limit', ' ', /expected a percentage/],
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
