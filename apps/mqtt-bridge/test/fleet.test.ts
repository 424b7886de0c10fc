import { createClient, memoryTokenStore } from '@voltkit/core/client';
import { createSimulator } from '@voltkit/simulator';
import { describe, expect, it } from 'vitest';
import { startBridge } from '../src/bridge.ts';
import { parseConfig } from '../src/config.ts';
import { createCoreVehicleSource } from '../src/core-vehicle-source.ts';
import { validateDeviceDiscovery } from '../src/ha-discovery-schema.ts';
import { silentLogger } from '../src/logger.ts';
import { Probe, startTestBroker, uniqueBase } from './helpers.ts';
import { SCOPES } from './stack.ts';

describe('several owners and vehicles in one bridge', () => {
  it('bridges every car of every grant, each as its own HA device, commands routed to the right car', async () => {
    const broker = await startTestBroker('aedes');
    const sim = await createSimulator({ clock: { mode: 'manual' } });
    const redirectUri = 'http://127.0.0.1:9/callback';
    const client = createClient({
      clientId: sim.demoApp.clientId,
      clientSecret: sim.demoApp.clientSecret,
      redirectUri,
      origin: sim.url,
      tokenStore: memoryTokenStore(),
      retry: false,
    });
    // Owner A has two Teslas in one account; owner B has a BMW.
    sim.createTestAccount({ email: 'a@example.com', brand: 'TESLA', vehicleCount: 2 });
    const a = sim.authorize({
      clientId: sim.demoApp.clientId,
      redirectUri,
      scope: [...SCOPES, 'read_fuel'],
      email: 'a@example.com',
      make: 'TESLA',
    });
    const b = sim.authorize({
      clientId: sim.demoApp.clientId,
      redirectUri,
      scope: [...SCOPES, 'read_fuel'],
      email: 'b@example.com',
      make: 'BMW',
    });
    await client.exchangeCode(a.code, { grantId: 'a' });
    await client.exchangeCode(b.code, { grantId: 'b' });
    const ids = [...a.vehicleIds, ...b.vehicleIds];
    expect(ids.length).toBeGreaterThanOrEqual(3);

    const base = uniqueBase('fleet');
    const prefix = `${base}_ha`;
    const probe = await Probe.connect(broker);
    await probe.subscribe([`${base}/#`, `${prefix}/#`]);
    const bridge = await startBridge({
      config: parseConfig({
        baseTopic: base,
        mqtt: { clientId: `${base}_bridge` },
        homeAssistant: { discoveryPrefix: prefix },
        polling: { vehicleListSeconds: 0 },
      }),
      source: createCoreVehicleSource({ client, grantIds: () => Promise.resolve(['a', 'b']) }),
      brokerUrl: broker.url,
      protocolVersion: 4,
      logger: silentLogger(),
    });
    const vins = ids.map((id) => sim.vehicle(id).vin);
    for (const vin of vins) {
      const config = await probe.waitFor((m) => m.topic === `${prefix}/device/${base}_${vin}/config`);
      expect(validateDeviceDiscovery(JSON.parse(config.payload))).toEqual({ success: true });
    }
    expect(bridge.vehicleSlugs().sort()).toEqual([...vins].sort());

    // A command for the second car changes that car only.
    const [first, second] = ids as [string, string];
    const before = sim.vehicle(first).state.chargeLimit;
    const mark = probe.mark();
    await probe.publish(`${base}/${sim.vehicle(second).vin}/charge_limit/set`, '61');
    await probe.waitFor(
      (m) =>
        m.topic === `${base}/${sim.vehicle(second).vin}/charge_limit/result` && m.payload.includes('"ok"'),
      { since: mark },
    );
    expect(sim.vehicle(second).state.chargeLimit).toBeCloseTo(0.61);
    expect(sim.vehicle(first).state.chargeLimit).toBe(before);

    await bridge.stop();
    await probe.close();
    await sim.close();
    await broker.close();
  });
});
