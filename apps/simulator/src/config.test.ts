import { describe, expect, it } from 'vitest';
import { parseConfig } from './config.ts';

describe('simulator configuration', () => {
  it('applies defaults and treats empty variables as unset', () => {
    expect(parseConfig({ PORT: '', HOST: undefined })).toMatchObject({
      PORT: 8080,
      HOST: '127.0.0.1',
      CLOCK_SPEED: 1,
      LOG_LEVEL: 'info',
    });
  });

  it('parses numbers and rate limits', () => {
    const config = parseConfig({
      PORT: '0',
      CLOCK_SPEED: '60',
      APP_RATE_LIMIT: '120:2',
      VEHICLE_RATE_LIMIT: '10:0.5',
    });
    expect(config).toMatchObject({
      PORT: 0,
      CLOCK_SPEED: 60,
      APP_RATE_LIMIT: { capacity: 120, refillPerMinute: 2 },
      VEHICLE_RATE_LIMIT: { capacity: 10, refillPerMinute: 0.5 },
    });
  });

  it('names each bad variable, and never echoes a management token', () => {
    const secret = 'short';
    let message = '';
    try {
      parseConfig({
        PORT: '70000',
        CLOCK_SPEED: '-1',
        APP_RATE_LIMIT: 'lots',
        SIMULATOR_MANAGEMENT_TOKEN: secret,
      });
    } catch (error) {
      message = (error as Error).message;
    }
    for (const name of ['PORT', 'CLOCK_SPEED', 'APP_RATE_LIMIT', 'SIMULATOR_MANAGEMENT_TOKEN'])
      expect(message).toContain(name);
    expect(message).not.toContain(`"${secret}"`);
  });
});
