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
import { Probe, startTestBroker, uniqueBase } from './helpers.ts';
import { SCOPES } from './stack.ts';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('vehicle API down', () => {
  it('marks the car unavailable while the API is unreachable, and recovers when it is back', async () => {
    const broker = await startTestBroker('aedes');
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'vk-sim-'));
    // The simulator keeps its state (grants, cars) in dataDir, so it can be stopped and started again.
    let sim: Simulator = await createSimulator({ port, dataDir, clock: { mode: 'manual' } });
    const redirectUri = 'http://127.0.0.1:9/callback';
    const { code, vehicleIds } = sim.authorize({
      clientId: sim.demoApp.clientId,
      redirectUri,
      scope: [...SCOPES],
      email: 'down@example.com',
      make: 'TESLA',
    });
    const vin = sim.vehicle(vehicleIds[0]!).vin;
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
    const probe = await Probe.connect(broker);
    await probe.subscribe(`${base}/#`);
    const bridge = await startBridge({
      config: parseConfig({
        baseTopic: base,
        mqtt: { clientId: `${base}_bridge` },
        homeAssistant: { discoveryPrefix: `${base}_ha` },
        polling: { errorBackoffSeconds: 0.2, maxBackoffSeconds: 0.5, vehicleListSeconds: 0 },
      }),
      source: createCoreVehicleSource({ client, grantIds: () => Promise.resolve(['owner']) }),
      brokerUrl: broker.url,
      protocolVersion: 4,
      logger: silentLogger(),
    });
    const availability = `${base}/${vin}/availability`;
    await probe.waitFor((m) => m.topic === availability && m.payload === 'online');

    await sim.close(); // the API is gone: connection refused
    let mark = probe.mark();
    await probe.publish(`${base}/${vin}/refresh/set`, 'PRESS');
    const failed = await probe.waitFor(
      (m) => m.topic === `${base}/${vin}/refresh/result` && m.payload.includes('"error"'),
      { since: mark },
    );
    expect(JSON.parse(failed.payload).error).toMatch(/NETWORK|fetch|connect/i);
    await probe.waitFor((m) => m.topic === availability && m.payload === 'offline', { since: mark });
    // Last values stay on the broker for dashboards; only availability says they are not current.
    expect(probe.last(`${base}/${vin}/soc`)?.payload).toBeTruthy();

    mark = probe.mark();
    sim = await createSimulator({ port, dataDir, clock: { mode: 'manual' } });
    await probe.waitFor((m) => m.topic === availability && m.payload === 'online', {
      since: mark,
      timeoutMs: 8000,
      what: 'recovery',
    });

    await bridge.stop();
    await probe.close();
    await sim.close();
    await broker.close();
  });
});
