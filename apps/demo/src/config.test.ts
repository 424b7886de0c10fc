import { describe, expect, it } from 'vitest';
import { DemoConfigError, loadDemoConfig, parseDemoArgs } from './config.ts';
import { DEFAULT_PRICE_FILE } from '@voltkit/smart-charging';
import { DEFAULT_DATA_DIR } from './paths.ts';

describe('demo arguments and environment', () => {
  it('takes the scenario and its options, and ignores the lone -- that npm and pnpm pass on', () => {
    expect(
      parseDemoArgs(['--', '--scenario', 'overnight', '--night', '2026-01-14', '--grid-limit', '18']),
    ).toEqual({
      scenario: 'overnight',
      night: '2026-01-14',
      'grid-limit': 18,
      help: false,
    });
  });

  it('names a wrong or unknown argument', () => {
    expect(() => parseDemoArgs(['--scenario', 'weekend'])).toThrow(/--scenario: /);
    expect(() => parseDemoArgs(['--night', 'tomorrow'])).toThrow(/--night: /);
    expect(() => parseDemoArgs(['--turbo'])).toThrow(DemoConfigError);
  });

  it('defaults to embedded everything: simulator, repo data dir, real price history, no broker URL', () => {
    const config = loadDemoConfig([], {});
    expect(config.dataDir).toBe(DEFAULT_DATA_DIR.replace(/\/$/, ''));
    expect(config.service.vehicleApi).toEqual({ kind: 'embedded-simulator' });
    expect(config.service.priceSource).toBe(`file:${DEFAULT_PRICE_FILE}`);
    expect(config.bridge.mqtt.url).toBeUndefined();
    expect(config.simulatorPort).toBe(8080);
  });

  it('reads the real-use variables through the apps’ own configs, without echoing secrets', () => {
    const config = loadDemoConfig([], {
      SMARTCAR_CLIENT_ID: 'id',
      SMARTCAR_CLIENT_SECRET: 'secret',
      SMARTCAR_REDIRECT_URI: 'https://demo.example/connect/callback',
      DATABASE_URL: 'postgres://user:pw@db.example:5432/voltkit',
      VOLTKIT_MQTT_URL: 'mqtt://broker.example:1883',
      PRICE_SOURCE: 'awattar-de',
    });
    expect(config.service.vehicleApi.kind).toBe('smartcar');
    expect(config.service.storage).toEqual({
      databaseUrl: 'postgres://user:pw@db.example:5432/voltkit',
      poolSize: 5,
      apiPoolSize: 4,
    });
    expect(config.service.priceSource).toBe('awattar-de');
    expect(config.bridge.mqtt.url).toBe('mqtt://broker.example:1883');
    try {
      loadDemoConfig([], { SMARTCAR_CLIENT_ID: 'only-the-id', VOLTKIT_DEMO_SIMULATOR_PORT: 'eighty' });
      expect.unreachable();
    } catch (error) {
      expect(String(error)).toContain('VOLTKIT_DEMO_SIMULATOR_PORT');
      expect(String(error)).not.toContain('eighty');
    }
  });
});
