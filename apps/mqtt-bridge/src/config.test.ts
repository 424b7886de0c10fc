import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, haStatusTopic, loadConfig, redactConfig } from './config.ts';

describe('loadConfig', () => {
  it('gives a runnable default: embedded broker, MQTT 5, device discovery', () => {
    const config = loadConfig({});
    expect(config.mqtt.url).toBeUndefined();
    expect(config.mqtt.protocolVersion).toBe(5);
    expect(config.baseTopic).toBe('voltkit');
    expect(config.homeAssistant.discoveryMode).toBe('device');
    expect(haStatusTopic(config)).toBe('homeassistant/status');
    expect(config.polling.asleepSeconds).toBe(3 * 3600);
    expect(config.polling.plugCheckSeconds).toBe(300);
  });

  it('reads every kind of environment variable', () => {
    const config = loadConfig({
      VOLTKIT_MQTT_URL: 'mqtts://broker.lan:8883',
      VOLTKIT_MQTT_PROTOCOL: '3.1.1',
      VOLTKIT_MQTT_USERNAME: 'ha',
      VOLTKIT_MQTT_PASSWORD: 's3cret',
      VOLTKIT_MQTT_INSECURE: 'true',
      VOLTKIT_HA_DISCOVERY_MODE: 'component',
      VOLTKIT_HA_DISCOVERY_PREFIX: 'ha',
      VOLTKIT_POLL_CHARGING_SECONDS: '30',
      VOLTKIT_DAILY_REQUEST_BUDGET: '200',
      VOLTKIT_VEHICLES: 'abc=Family car=family, def',
    });
    expect(config.mqtt).toMatchObject({
      url: 'mqtts://broker.lan:8883',
      protocolVersion: 4,
      username: 'ha',
      tls: { insecure: true },
    });
    expect(config.homeAssistant.discoveryMode).toBe('component');
    expect(haStatusTopic(config)).toBe('ha/status');
    expect(config.polling.chargingSeconds).toBe(30);
    expect(config.polling.dailyRequestBudget).toBe(200);
    expect(config.vehicles).toEqual([{ id: 'abc', name: 'Family car', slug: 'family' }, { id: 'def' }]);
  });

  it('names the field and the variable of bad input', () => {
    expect(() => loadConfig({ VOLTKIT_MQTT_PROTOCOL: '6' })).toThrow(
      /mqtt\.protocolVersion \(VOLTKIT_MQTT_PROTOCOL\)/,
    );
    expect(() => loadConfig({ VOLTKIT_DAILY_REQUEST_BUDGET: 'lots' })).toThrow(
      /polling\.dailyRequestBudget \(VOLTKIT_DAILY_REQUEST_BUDGET\)/,
    );
    expect(() => loadConfig({ VOLTKIT_BASE_TOPIC: 'a/#' })).toThrow(ConfigError);
    expect(() => loadConfig({ VOLTKIT_MQTT_URL: 'http://x' })).toThrow(/mqtt\.url/);
    expect(() => loadConfig({ VOLTKIT_MQTT_CERT_FILE: '/c.pem' })).toThrow(/certFile and keyFile/);
  });

  it('overlays env on a JSON file and reports unreadable files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vk-bridge-'));
    const file = join(dir, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({ baseTopic: 'fromfile', polling: { parkedSeconds: 3600, chargingSeconds: 90 } }),
    );
    const config = loadConfig({ VOLTKIT_CONFIG_FILE: file, VOLTKIT_POLL_CHARGING_SECONDS: '45' });
    expect(config.baseTopic).toBe('fromfile');
    expect(config.polling.parkedSeconds).toBe(3600);
    expect(config.polling.chargingSeconds).toBe(45);
    writeFileSync(file, '{nope');
    expect(() => loadConfig({ VOLTKIT_CONFIG_FILE: file })).toThrow(/cannot read JSON/);
  });

  it('never leaks secrets in the redacted view or in errors', () => {
    const config = loadConfig({
      VOLTKIT_MQTT_URL: 'mqtt://user:pw123@broker:1883',
      VOLTKIT_MQTT_PASSWORD: 'hunter2',
      SMARTCAR_CLIENT_SECRET: 'topsecret',
    });
    const text = JSON.stringify(redactConfig(config));
    expect(text).not.toMatch(/hunter2|topsecret|pw123/);
    expect(text).toContain('***');
    let message = '';
    try {
      loadConfig({ VOLTKIT_MQTT_PASSWORD: 'hunter2', VOLTKIT_MQTT_PROTOCOL: 'x' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/protocolVersion/);
    expect(message).not.toContain('hunter2');
  });
});

describe('the smart-charging service link', () => {
  const token = 'vk_op_0123456789abcdef0123456789abcdef';

  it('reads URL, token and poll interval, and never shows the token', () => {
    const config = loadConfig({
      VOLTKIT_SERVICE_URL: 'http://127.0.0.1:8080/',
      VOLTKIT_SERVICE_TOKEN: token,
      VOLTKIT_SERVICE_POLL_SECONDS: '2',
    });
    expect(config.smartCharging).toEqual({
      serviceUrl: 'http://127.0.0.1:8080/',
      apiToken: token,
      pollSeconds: 2,
    });
    expect(JSON.stringify(redactConfig(config))).not.toContain(token);
  });

  it('refuses to send the token in clear over a network, or a URL without a token', () => {
    expect(() =>
      loadConfig({ VOLTKIT_SERVICE_URL: 'http://charging.lan:8080/', VOLTKIT_SERVICE_TOKEN: token }),
    ).toThrow(/VOLTKIT_SERVICE_URL.*https/s);
    expect(
      loadConfig({ VOLTKIT_SERVICE_URL: 'https://charging.example/', VOLTKIT_SERVICE_TOKEN: token })
        .smartCharging.serviceUrl,
    ).toBe('https://charging.example/');
    expect(() => loadConfig({ VOLTKIT_SERVICE_URL: 'http://127.0.0.1:8080/' })).toThrow(
      /VOLTKIT_SERVICE_TOKEN.*together/s,
    );
  });
});
