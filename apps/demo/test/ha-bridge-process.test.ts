import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '@voltkit/simulator';
import { createOperatorToken, type SqlClient } from '@voltkit/smart-charging';
import { DEMO_FLEET } from '../src/demo-fleet.ts';
import { linkDemoFleet } from '../src/link-fleet.ts';
import type { WiredService } from '../src/wire-service.ts';
import { startEmbeddedService, type EmbeddedService } from './embedded-service.ts';

// The built bridge under plain node, as `voltkit-mqtt-bridge` runs it (turbo builds before testing).
const BRIDGE_BIN = join(
  dirname(fileURLToPath(import.meta.resolve('@voltkit/mqtt-bridge/package.json'))),
  'bin',
  'voltkit-mqtt-bridge.mjs',
);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function runBridge(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [BRIDGE_BIN], {
    env: { PATH: process.env['PATH'] ?? '', VOLTKIT_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the bridge as its own process, pointed at the service’s URL with an API token', () => {
  let sim: Simulator;
  let db: SqlClient;
  let service: EmbeddedService;
  let wired: WiredService;
  let vehicleId: string;
  let token: string;

  beforeAll(async () => {
    service = await startEmbeddedService(new Date('2026-11-24T17:00:00Z'));
    ({ sim, db, wired } = service);
    const [linked] = await linkDemoFleet({ sim, api: wired.api, fleet: [DEMO_FLEET[0]!] });
    vehicleId = linked!.vehicleId;
    token = (await createOperatorToken(db, { name: 'mqtt bridge', role: 'admin' })).token;
  }, 120_000);
  afterAll(async () => {
    await service?.close();
  });

  it.each(['aedes', 'mosquitto'] as const)(
    'on %s: bridges the service’s car, its page leads to the service, and HA changes re-plan there',
    async (broker) => {
      const base = `vkproc_${randomBytes(3).toString('hex')}`;
      const connectPort = await freePort();
      const brokerPort = await freePort();
      const brokerUrl = broker === 'aedes' ? `mqtt://127.0.0.1:${brokerPort}` : 'mqtt://127.0.0.1:1883';
      const bridge = runBridge({
        VOLTKIT_SERVICE_URL: wired.url,
        VOLTKIT_SERVICE_TOKEN: token,
        VOLTKIT_SERVICE_POLL_SECONDS: '1',
        VOLTKIT_BASE_TOPIC: base,
        VOLTKIT_HA_DISCOVERY_PREFIX: `${base}_ha`,
        VOLTKIT_CONNECT_PORT: String(connectPort),
        ...(broker === 'aedes'
          ? { VOLTKIT_EMBEDDED_BROKER_PORT: String(brokerPort) }
          : { VOLTKIT_MQTT_URL: brokerUrl }),
      });
      const ha = await (async () => {
        await until(() => bridge.output().includes('smart charging:'), 'the bridge to start');
        return mqtt.connectAsync(brokerUrl, { protocolVersion: broker === 'aedes' ? 4 : 5 });
      })();
      const seen = new Map<string, string>();
      ha.on('message', (topic, payload) => seen.set(topic, payload.toString()));
      try {
        expect(bridge.output()).toContain(`smart charging:    ${wired.url}`);
        expect(bridge.output()).not.toContain(token);
        // Owners link cars once, in the service: the bridge's page sends them there.
        const page = await fetch(`http://127.0.0.1:${connectPort}/`, { redirect: 'manual' });
        expect(page.status).toBe(303);
        expect(page.headers.get('location')).toBe(wired.url);

        await ha.subscribeAsync([`${base}/#`], { qos: 1 });
        const t = (key: string) => `${base}/${vehicleId}/${key}`;
        await until(() => seen.get(t('smart_charging_mode')) === 'smart', 'the mode in HA');
        await until(() => seen.has(t('soc')), 'the service’s SoC reading in HA');
        const sentAt = performance.now();
        await ha.publishAsync(t('target_soc/set'), '70', { qos: 1 });
        await until(() => seen.get(t('target_soc')) === '70', 'the new target in HA');
        const ms = performance.now() - sentAt;
        expect((await wired.api.preferences(vehicleId)).targetSoc).toBe(0.7);
        console.log(`separate process/${broker}: target_soc set → state in HA ${ms.toFixed(0)} ms`);
        const info = [...seen.entries()].find(([topic]) => topic === `${base}/bridge/info`)?.[1] ?? '';
        expect(info).toContain('"apiToken":"***"');
        for (const payload of seen.values()) expect(payload).not.toContain(token);
      } finally {
        await ha.endAsync();
        bridge.child.kill('SIGTERM');
        await new Promise((resolve) => bridge.child.once('exit', resolve));
        if (broker === 'mosquitto') {
          const cleaner = await mqtt.connectAsync(brokerUrl, { protocolVersion: 5 });
          const retained = new Set<string>();
          cleaner.on('message', (topic, payload, packet) => {
            if (packet.retain && payload.length > 0) retained.add(topic);
          });
          await cleaner.subscribeAsync([`${base}/#`, `${base}_ha/#`], { qos: 1 });
          await new Promise((resolve) => setTimeout(resolve, 300));
          await Promise.all(
            [...retained].map((topic) => cleaner.publishAsync(topic, '', { retain: true, qos: 1 })),
          );
          await cleaner.endAsync();
        }
      }
    },
    60_000,
  );

  it('refuses to start with a token the service does not know, without printing it', async () => {
    const forged = `vk_${randomBytes(24).toString('hex')}`;
    const bridge = runBridge({
      VOLTKIT_SERVICE_URL: wired.url,
      VOLTKIT_SERVICE_TOKEN: forged,
      VOLTKIT_EMBEDDED_BROKER_PORT: String(await freePort()),
      VOLTKIT_CONNECT_PORT: '0',
    });
    const code = await new Promise<number | null>((resolve) => bridge.child.once('exit', resolve));
    expect(code).toBe(2);
    expect(bridge.output()).toContain('refused the bridge');
    expect(bridge.output()).toContain('token create --role admin');
    expect(bridge.output()).not.toContain(forged);
  });
});
