/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return -- tests inspect parsed JSON payloads freely */
import { describe, expect, it } from 'vitest';
import { validateDeviceDiscovery } from '../src/ha-discovery-schema.ts';
import { BROKER_KINDS, startTestBroker } from './helpers.ts';
import type { ReceivedMessage } from './helpers.ts';
import { SCOPES, startStack } from './stack.ts';

const json = (m: ReceivedMessage): Record<string, any> => JSON.parse(m.payload) as Record<string, any>;
const BATCH = 'POST /v2.0/vehicles/:id/*';

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.each(BROKER_KINDS)('freshness on %s (issue 14 point 1)', (kind) => {
  it('shows the age of every value, re-checks a sleeping car without waking it, and sees a plug-in within the plug-check interval', async () => {
    const broker = await startTestBroker(kind);
    const requests: string[] = [];
    const batches = (): number => requests.filter((r) => r === BATCH).length;
    const stack = await startStack(
      broker,
      `fresh_${kind}`,
      // Seconds instead of hours and minutes, so the test sees them happen; the budget is not the subject here.
      { polling: { asleepSeconds: 0.6, plugCheckSeconds: 0.4, dailyRequestBudget: 100_000_000 } },
      { onSimulatorRequest: (r) => requests.push(r) },
    );
    const t = (key: string): string => `${stack.base}/${stack.slug}/${key}`;
    const { probe, sim, vehicleId } = stack;
    const config = json(
      await probe.waitFor((m) => m.topic === `${stack.prefix}/device/${stack.base}_${stack.slug}/config`),
    );
    expect(validateDeviceDiscovery(config)).toEqual({ success: true });
    // Every read value points at an attributes topic with its age.
    const soc = config['components']['soc'];
    const attributes = json(await probe.waitFor((m) => m.topic === soc['json_attributes_topic']));
    expect(attributes).toMatchObject({ read_at: expect.any(String), source: 'poll' });
    expect(Date.parse(attributes['recorded_at'])).toBe(Date.parse(sim.clock.now().toISOString()));
    for (const [key, component] of Object.entries(config['components'] as Record<string, any>)) {
      if (component['platform'] === 'button' || component['platform'] === 'event') continue;
      if (['vehicle_state', 'last_updated', 'requests_remaining', 'location'].includes(key)) continue;
      expect(component['json_attributes_topic'], key).toMatch(/\/attributes\//);
    }

    // Parked, unplugged: a plug-in shows up at the next plug check, long before the parked interval (600 s).
    sim.unplug(vehicleId);
    await probe.publish(t('refresh/set'), 'PRESS');
    await probe.waitFor((m) => m.topic === t('plugged_in') && m.payload === 'OFF');
    let mark = probe.mark();
    sim.updateVehicle(vehicleId, { pluggedIn: true });
    await probe.waitFor((m) => m.topic === t('plugged_in') && m.payload === 'ON', {
      since: mark,
      timeoutMs: 10_000,
      what: 'plug-in seen by a plug check',
    });
    const events = probe.messages.slice(mark).filter((m) => m.topic === t('charge_event'));
    expect(events.map((m) => json(m)['event_type'])).toContain('plugged_in');
    sim.unplug(vehicleId);

    // Asleep: re-checked (a cheap read that does not wake it), never a full read, and found awake later.
    sim.setAsleep(vehicleId, true);
    await probe.publish(t('refresh/set'), 'PRESS');
    await probe.waitFor((m) => m.topic === t('vehicle_state') && m.payload === 'asleep');
    const asleepAt = batches();
    await until(() => batches() >= asleepAt + 2, 'two re-checks of the sleeping car');
    expect(sim.vehicle(vehicleId).state.asleep).toBe(true); // the re-checks did not wake it
    mark = probe.mark();
    sim.setAsleep(vehicleId, false);
    await probe.waitFor((m) => m.topic === t('vehicle_state') && m.payload !== 'asleep', {
      since: mark,
      what: 'awake again',
    });
    await stack.close();
    await broker.close();
  }, 40_000);

  it('reads fast after a failed command too, and at once when a webhook arrives for a sleeping car', async () => {
    const broker = await startTestBroker(kind);
    const requests: string[] = [];
    const batches = (): number => requests.filter((r) => r === BATCH).length;
    const stack = await startStack(
      broker,
      `fast_${kind}`,
      { polling: { fastSeconds: 0.3, plugCheckSeconds: 0, asleepSeconds: 0 } },
      { webhook: true, onSimulatorRequest: (r) => requests.push(r) },
    );
    const t = (key: string): string => `${stack.base}/${stack.slug}/${key}`;
    const { probe, sim, vehicleId } = stack;
    await probe.waitFor((m) => m.topic === t('charge_state'));
    sim.unplug(vehicleId);
    let mark = probe.mark();
    await probe.publish(t('charging/set'), 'ON');
    await probe.waitFor((m) => m.topic === t('charging/result') && json(m)['status'] === 'error', {
      since: mark,
    });
    // The car is plugged in behind HA's back (no webhook for that): the fast reads find it.
    sim.updateVehicle(vehicleId, { pluggedIn: true });
    await probe.waitFor((m) => m.topic === t('plugged_in') && m.payload === 'ON', {
      since: mark,
      what: 'fast read after a failed command',
    });
    sim.unplug(vehicleId);

    // Asleep, and never re-checked here (asleepSeconds 0): only the webhook can bring it back.
    sim.setAsleep(vehicleId, true);
    await probe.publish(t('refresh/set'), 'PRESS');
    await probe.waitFor((m) => m.topic === t('vehicle_state') && m.payload === 'asleep');
    await new Promise((r) => setTimeout(r, 1000)); // fast window over
    const before = batches();
    mark = probe.mark();
    sim.setAsleep(vehicleId, false);
    sim.setSoc(vehicleId, 0.3);
    sim.plugIn(vehicleId);
    await sim.flushWebhooks();
    await until(() => batches() > before, 'a read right after the webhook');
    await probe.waitFor((m) => m.topic === t('charge_state') && m.payload === 'charging', { since: mark });
    const attributes = json(await probe.waitFor((m) => m.topic === t('attributes/charge'), { since: mark }));
    expect(['webhook', 'poll']).toContain(attributes['source']);
    await stack.close();
    await broker.close();
  }, 40_000);
});

describe.each(BROKER_KINDS)('charging telemetry and security on %s (issue 14 point 2)', (kind) => {
  it('derives power, energy, time to full and completion from SoC × capacity, and reports doors and trunk', async () => {
    const broker = await startTestBroker(kind);
    const stack = await startStack(broker, `tele_${kind}`);
    const t = (key: string): string => `${stack.base}/${stack.slug}/${key}`;
    const { probe, sim, vehicleId } = stack;
    await probe.waitFor((m) => m.topic === t('battery_capacity'));
    sim.unplug(vehicleId);
    sim.setSoc(vehicleId, 0.4);
    let mark = probe.mark();
    await probe.publish(t('refresh/set'), 'PRESS');
    await probe.waitFor((m) => m.topic === t('refresh/result') && json(m)['status'] === 'ok', {
      since: mark,
    });
    await until(() => probe.last(t('charging_power'))?.payload === '0', 'no power while unplugged');
    mark = probe.mark();
    sim.plugIn(vehicleId, { stationKw: 11 });
    await probe.publish(t('refresh/set'), 'PRESS');
    await probe.waitFor((m) => m.topic === t('charge_state') && m.payload === 'charging', { since: mark });
    const started = probe.messages.slice(mark).filter((m) => m.topic === t('charge_event'));
    expect(started.map((m) => json(m)['event_type'])).toEqual(['plugged_in', 'charge_started']);
    await sim.clock.advance(30 * 60_000);
    await probe.publish(t('refresh/set'), 'PRESS');
    const power = await probe.waitFor((m) => m.topic === t('charging_power') && Number(m.payload) > 0, {
      since: mark,
    });
    const capacity = Number(probe.last(t('battery_capacity'))!.payload);
    // 30 simulated minutes at up to 11 kW: the derived power matches what the simulator charged.
    const soc = sim.vehicle(vehicleId).state.soc!;
    const expectedKw = ((soc - 0.4) * capacity) / 0.5;
    expect(Number(power.payload)).toBeCloseTo(expectedKw, 0);
    expect(Number(power.payload)).toBeLessThanOrEqual(11.05);
    const energy = await probe.waitFor((m) => m.topic === t('energy_added') && Number(m.payload) > 0, {
      since: mark,
    });
    expect(Number(energy.payload)).toBeCloseTo((soc - 0.4) * capacity, 1);
    const minutes = Number(
      (await probe.waitFor((m) => m.topic === t('time_to_full'), { since: mark })).payload,
    );
    expect(minutes).toBeGreaterThan(0);
    const complete = await probe.waitFor((m) => m.topic === t('charge_complete') && m.payload !== 'None', {
      since: mark,
    });
    expect(Date.parse(complete.payload)).toBeGreaterThan(sim.clock.now().getTime());
    const basis = json(probe.last(t('attributes/charging_telemetry'))!);
    expect(basis['derived']).toMatch(/state-of-charge change × battery capacity/);

    mark = probe.mark();
    sim.unplug(vehicleId);
    sim.updateVehicle(vehicleId, { doors: { frontLeft: 'OPEN' }, trunk: 'OPEN' });
    await probe.publish(t('refresh/set'), 'PRESS');
    await probe.waitFor((m) => m.topic === t('doors') && m.payload === 'ON', { since: mark });
    await probe.waitFor((m) => m.topic === t('trunk') && m.payload === 'ON', { since: mark });
    await probe.waitFor((m) => m.topic === t('charge_port') && m.payload === 'OFF', { since: mark });
    expect(probe.last(t('windows'))?.payload).toBe('OFF');
    await probe.waitFor(
      (m) => m.topic === t('attributes/security') && json(m)['doors']?.['front_left'] === 'open',
      { since: mark },
    );
    expect(json(probe.last(t('attributes/security'))!)).toMatchObject({
      doors: { front_left: 'open', front_right: 'closed' },
      trunk: 'open',
    });
    const ended = probe.messages.slice(mark).filter((m) => m.topic === t('charge_event'));
    expect(ended.map((m) => json(m)['event_type'])).toEqual(['unplugged', 'charge_stopped']);
    // The session's energy stays until the next plug-in (a reset HA's Energy dashboard understands).
    expect(Number(probe.last(t('energy_added'))!.payload)).toBeCloseTo(Number(energy.payload), 2);
    await stack.close();
    await broker.close();
  }, 40_000);
});

const CAR_TYPES = [
  { type: 'BEV', brand: 'BMW', model: 'iX', name: 'BMW iX', manufacturer: 'BMW' },
  {
    type: 'BEV',
    brand: 'DS',
    model: 'DS 3 Crossback E-Tense',
    name: 'DS 3 Crossback E-Tense',
    manufacturer: 'DS Automobiles',
  },
  { type: 'PHEV', brand: 'CITROEN', model: 'C5 X', name: 'Citroën C5 X', manufacturer: 'Citroën' },
  { type: 'ICE', brand: 'INFINITI', model: 'Q50', name: 'INFINITI Q50', manufacturer: 'INFINITI' },
] as const;

describe.each(BROKER_KINDS)('entities per car type on %s (issue 14)', (kind) => {
  it.each(CAR_TYPES)(
    '$type ($brand $model): valid discovery, display names, only the entities it can fill',
    async (car) => {
      const broker = await startTestBroker(kind);
      const stack = await startStack(
        broker,
        `type_${car.type}_${kind}`,
        {},
        {
          account: { brand: car.brand, model: car.model },
          scopes: [...SCOPES, 'read_fuel', 'read_engine_oil'],
        },
      );
      const t = (key: string): string => `${stack.base}/${stack.slug}/${key}`;
      await stack.probe.waitFor((m) => m.topic === t('availability') && m.payload === 'online');
      await stack.bridge.flush();
      const config = json(stack.probe.last(`${stack.prefix}/device/${stack.base}_${stack.slug}/config`)!);
      expect(validateDeviceDiscovery(config)).toEqual({ success: true });
      expect(config['device']).toMatchObject({
        name: car.name,
        manufacturer: car.manufacturer,
        model: car.model,
      });
      const keys = Object.keys(config['components']);
      const electric = ['soc', 'charging', 'charging_power', 'energy_added', 'time_to_full', 'charge_event'];
      const combustion = ['fuel', 'fuel_amount'];
      if (car.type !== 'ICE') expect(keys).toEqual(expect.arrayContaining(electric));
      else for (const key of electric) expect(keys).not.toContain(key);
      if (car.type !== 'BEV') {
        expect(keys).toEqual(expect.arrayContaining(combustion));
        const liters = sim(stack).fuelLiters!;
        await stack.probe.waitFor((m) => m.topic === t('fuel_amount'));
        expect(Number(stack.probe.last(t('fuel_amount'))!.payload)).toBeCloseTo(liters, 0);
      } else for (const key of combustion) expect(keys).not.toContain(key);
      // Security entities come with the brand's /security support, all of them or none.
      const security = ['lock', 'doors', 'windows', 'trunk'];
      expect(security.map((key) => keys.includes(key))).toEqual(security.map(() => keys.includes('lock')));
      if (car.type === 'ICE') expect(keys).not.toContain('charge_port');
      await stack.close();
      await broker.close();
    },
  );
});

function sim(stack: Awaited<ReturnType<typeof startStack>>) {
  return stack.sim.vehicle(stack.vehicleId).state;
}
