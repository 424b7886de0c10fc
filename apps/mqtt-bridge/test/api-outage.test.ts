import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, memoryTokenStore } from '@voltkit/core/client';
import { createSimulator } from '@voltkit/simulator';
import type { Simulator } from '@voltkit/simulator';
import { describe, expect, it } from 'vitest';
import { startBridge } from '../src/bridge.ts';
import { parseConfig } from '../src/config.ts';
import { createCoreVehicleSource } from '../src/core-vehicle-source.ts';
import { silentLogger } from '../src/logger.ts';
import { BROKER_KINDS, clearRetained, Probe, startTestBroker, uniqueBase } from './helpers.ts';
import { SCOPES } from './stack.ts';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Whether Home Assistant shows a car available: every topic of its discovery availability list says online. */
function haAvailable(probe: Probe, discoveryTopic: string): boolean {
  const discovery = probe.last(discoveryTopic);
  if (!discovery || discovery.payload === '') return false;
  const { availability } = JSON.parse(discovery.payload) as { availability: Array<{ topic: string }> };
  return availability.every(({ topic }) => probe.last(topic)?.payload === 'online');
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.each(BROKER_KINDS)('vehicle API down, on %s (issue 14)', (kind) => {
  it('greys out every car at once while the API is unreachable, never polls them meanwhile, and recovers', async () => {
    const broker = await startTestBroker(kind);
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'vk-sim-'));
    // The simulator keeps its state (grants, cars) in dataDir, so it can be stopped and started again.
    let sim: Simulator = await createSimulator({ port, dataDir, clock: { mode: 'manual' } });
    const redirectUri = 'http://127.0.0.1:9/callback';
    sim.createTestAccount({ email: 'down@example.com', brand: 'TESLA', vehicleCount: 2 });
    const { code, vehicleIds } = sim.authorize({
      clientId: sim.demoApp.clientId,
      redirectUri,
      scope: [...SCOPES],
      email: 'down@example.com',
      make: 'TESLA',
    });
    expect(vehicleIds.length).toBe(2);
    const vins = vehicleIds.map((id) => sim.vehicle(id).vin);
    const client = createClient({
      clientId: sim.demoApp.clientId,
      clientSecret: sim.demoApp.clientSecret,
      redirectUri,
      origin: sim.url,
      tokenStore: memoryTokenStore(),
      retry: false,
      timeoutMs: 2000,
    });
    await client.exchangeCode(code, { grantId: 'owner' });
    const base = uniqueBase('apidown');
    const prefix = `${base}_ha`;
    const probe = await Probe.connect(broker);
    await probe.subscribe([`${base}/#`, `${prefix}/#`]);
    const source = createCoreVehicleSource({ client, grantIds: () => Promise.resolve(['owner']) });
    let reads = 0;
    const bridge = await startBridge({
      config: parseConfig({
        baseTopic: base,
        mqtt: { clientId: `${base}_bridge`, url: broker.url, protocolVersion: broker.protocolVersion },
        homeAssistant: { discoveryPrefix: prefix },
        polling: { errorBackoffSeconds: 0.2, maxBackoffSeconds: 0.5, vehicleListSeconds: 0 },
      }),
      source: {
        ...source,
        read: (id, fields) => {
          reads += 1;
          return source.read(id, fields);
        },
      },
      brokerUrl: broker.url,
      protocolVersion: broker.protocolVersion,
      logger: silentLogger(),
    });
    const discovery = (vin: string): string => `${prefix}/device/${base}_${vin}/config`;
    await until(() => vins.every((vin) => haAvailable(probe, discovery(vin))), 'both cars available');
    expect(probe.last(`${base}/bridge/api`)?.payload).toBe('online');

    await sim.close(); // the API is gone: connection refused
    const mark = probe.mark();
    // Only the first car is asked (a refresh); the second one is greyed out with it.
    await probe.publish(`${base}/${vins[0]}/refresh/set`, 'PRESS');
    const failed = await probe.waitFor(
      (m) => m.topic === `${base}/${vins[0]}/refresh/result` && m.payload.includes('"error"'),
      { since: mark },
    );
    expect(JSON.parse(failed.payload).error).toMatch(/NETWORK|fetch|connect/i);
    await probe.waitFor((m) => m.topic === `${base}/bridge/api` && m.payload === 'offline', { since: mark });
    expect(vins.map((vin) => haAvailable(probe, discovery(vin)))).toEqual([false, false]);
    expect(JSON.parse(probe.last(`${base}/bridge/api/attributes`)!.payload)).toMatchObject({
      down_since: expect.any(String),
    });
    // Last values stay on the broker for dashboards; only availability says they are not current.
    expect(probe.last(`${base}/${vins[1]}/soc`)?.payload).toBeTruthy();
    // Meanwhile the bridge checks the API without reading any car (no wake-up, no budget spent).
    const readsWhileDown = reads;
    await new Promise((r) => setTimeout(r, 1500));
    expect(reads).toBe(readsWhileDown);

    sim = await createSimulator({ port, dataDir, clock: { mode: 'manual' } });
    await until(() => vins.every((vin) => haAvailable(probe, discovery(vin))), 'recovery', 15_000);
    expect(reads).toBeGreaterThan(readsWhileDown); // every car read again at once

    await bridge.stop();
    await probe.close();
    await sim.close();
    if (kind === 'mosquitto') await clearRetained(broker, [`${base}/#`, `${prefix}/#`]);
    await broker.close();
  }, 40_000);
});
