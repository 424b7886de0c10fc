import { describe, expect, it } from 'vitest';
import { ConfigError, loadServiceConfig } from './config.ts';

describe('service configuration', () => {
  it('runs on embedded defaults with an empty environment', () => {
    const config = loadServiceConfig({});
    expect(config.storage).toEqual({ dataDir: '.data/smart-charging' });
    expect(config.vehicleApi).toEqual({ kind: 'embedded-simulator' });
    expect(config).toMatchObject({ port: 8740, timeZone: 'Europe/Berlin', slotMinutes: 15, gridLimitKw: 11 });
  });

  it('uses PostgreSQL and Smartcar when configured', () => {
    const config = loadServiceConfig({
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
      SMARTCAR_CLIENT_ID: 'id',
      SMARTCAR_CLIENT_SECRET: 'secret',
      SMARTCAR_REDIRECT_URI: 'http://localhost:8740/callback',
      SLOT_MINUTES: '60',
    });
    // The jobs' pool and the HTTP API's own, at their defaults.
    expect(config.storage).toEqual({
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/test',
      poolSize: 5,
      apiPoolSize: 4,
    });
    expect(config.vehicleApi).toMatchObject({ kind: 'smartcar', clientId: 'id' });
    expect(config.slotMinutes).toBe(60);
    expect(() => loadServiceConfig({ API_DATABASE_POOL_SIZE: '0' })).toThrow(/API_DATABASE_POOL_SIZE/);
    expect(() => loadServiceConfig({ DATABASE_POOL_SIZE: '2.5' })).toThrow(
      /DATABASE_POOL_SIZE: expected a whole number/,
    );
  });

  it('follows a simulator’s clock only with its origin and management token', () => {
    expect(() => loadServiceConfig({ CLOCK: 'simulator', VEHICLE_API_ORIGIN: 'http://127.0.0.1:9' })).toThrow(
      /SIMULATOR_MANAGEMENT_TOKEN: required when CLOCK is simulator/,
    );
    expect(() => loadServiceConfig({ CLOCK: 'simulator', SIMULATOR_MANAGEMENT_TOKEN: 't' })).toThrow(
      /VEHICLE_API_ORIGIN: required when CLOCK is simulator/,
    );
    const config = loadServiceConfig({
      CLOCK: 'simulator',
      VEHICLE_API_ORIGIN: 'http://127.0.0.1:9',
      SIMULATOR_MANAGEMENT_TOKEN: 't',
      INSTANCE_ID: 'worker-1',
    });
    expect(config.clock).toEqual({ kind: 'simulator', origin: 'http://127.0.0.1:9', managementToken: 't' });
    expect(config.instanceId).toBe('worker-1');
    expect(loadServiceConfig({}).clock).toEqual({ kind: 'wall' });
    expect(() => loadServiceConfig({ INSTANCE_ID: 'a b' })).toThrow(/INSTANCE_ID/);
  });

  it('names every bad variable and never echoes a value', () => {
    let error: unknown;
    try {
      loadServiceConfig({
        PORT: 'eighty',
        TIME_ZONE: 'Mars/Olympus',
        SLOT_MINUTES: '20',
        DATABASE_URL: 'mysql://u:hunter2@h/db',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of ['PORT', 'TIME_ZONE', 'SLOT_MINUTES', 'DATABASE_URL']) expect(message).toContain(name);
    expect(message).not.toContain('hunter2');
  });

  it('refuses half a set of Smartcar credentials without revealing the secret', () => {
    expect(() => loadServiceConfig({ SMARTCAR_CLIENT_SECRET: 's3cr3t-value' })).toThrow(
      /set all three or none/,
    );
    expect(() => loadServiceConfig({ SMARTCAR_CLIENT_SECRET: 's3cr3t-value' })).not.toThrow(/s3cr3t-value/);
  });

  it('takes the vehicle API budget and the webhook key from the environment, naming a bad value’s variable', () => {
    expect(loadServiceConfig({}).requestBudget).toEqual({ capacity: 120, refillPerMinute: 2 });
    expect(loadServiceConfig({}).webhookManagementToken).toBeUndefined();
    const config = loadServiceConfig({
      VEHICLE_API_BUDGET_CAPACITY: '600',
      VEHICLE_API_BUDGET_REFILL_PER_MINUTE: '0.5',
      SMARTCAR_MANAGEMENT_TOKEN: 'amt-secret-value',
    });
    expect(config.requestBudget).toEqual({ capacity: 600, refillPerMinute: 0.5 });
    expect(config.webhookManagementToken).toBe('amt-secret-value');
    expect(() => loadServiceConfig({ VEHICLE_API_BUDGET_CAPACITY: '0' })).toThrow(
      /VEHICLE_API_BUDGET_CAPACITY: /,
    );
    expect(() => loadServiceConfig({ VEHICLE_API_BUDGET_CAPACITY: '1.5' })).toThrow(
      /VEHICLE_API_BUDGET_CAPACITY: expected a whole number/,
    );
    expect(() => loadServiceConfig({ VEHICLE_API_BUDGET_REFILL_PER_MINUTE: 'lots' })).toThrow(
      /VEHICLE_API_BUDGET_REFILL_PER_MINUTE: /,
    );
    expect(() =>
      loadServiceConfig({
        VEHICLE_API_BUDGET_REFILL_PER_MINUTE: '-1',
        SMARTCAR_MANAGEMENT_TOKEN: 'amt-secret-value',
      }),
    ).not.toThrow(/amt-secret-value/);
  });
});
