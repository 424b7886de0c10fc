import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo } from './run-demo.ts';

const BRANDS = ['BMW i8', 'CITROEN ë-C4', 'DS DS 3 Crossback E-Tense', 'KIA EV6', 'TESLA Model 3'];
// Every server on a free port, storage in a fresh directory.
const ENV = { PORT: '0', VOLTKIT_DEMO_SIMULATOR_PORT: '0', VOLTKIT_EMBEDDED_BROKER_PORT: '0' };

function printed(output: string, label: string): string {
  const match = new RegExp(`${label}:\\s+(\\S+)`).exec(output);
  if (!match) throw new Error(`no "${label}" line in:\n${output}`);
  return match[1]!;
}

/** Signs in with a printed one-time login link, as its page does: the session cookie. */
async function signIn(loginUrl: string): Promise<string> {
  const url = new URL(loginUrl);
  const code = new URLSearchParams(url.hash.slice(1)).get('code');
  const response = await fetch(new URL('api/session', url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: url.origin },
    body: JSON.stringify({ credential: code }),
  });
  expect(response.status).toBe(200);
  return response.headers.getSetCookie()[0]!.split(';')[0]!;
}

/** The cars the signed-in person may see, as the dashboard lists them when asked for all of them. */
async function dashboardVehicles(url: string, cookie: string): Promise<{ id: string; name: string }[]> {
  const listed = await fetch(new URL('api/vehicles?limit=100', url), { headers: { cookie } });
  expect(listed.status).toBe(200);
  const ids = ((await listed.json()) as { items: { id: string }[] }).items.map((vehicle) => vehicle.id);
  const response = await fetch(new URL(`api/dashboard?vehicleIds=${ids.join(',')}`, url), {
    headers: { cookie },
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { vehicles: { id: string; name: string }[] };
  return body.vehicles.sort((a, b) => a.name.localeCompare(b.name));
}

describe('pnpm demo (the whole stack in one process)', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'voltkit-demo-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('starts everything, links the demo fleet through Connect, and stops cleanly on Ctrl-C with the bridge offline', async () => {
    const demo = runDemo(['--data-dir', dataDir], ENV);
    try {
      await demo.waitForOutput('Ctrl-C stops everything.', 90_000);
    } catch (error) {
      demo.child.kill('SIGKILL');
      throw error;
    }
    const output = demo.stdout();
    expect(output).toContain('5 demo cars linked through Connect now');
    const dashboardUrl = printed(output, 'dashboard');
    const brokerUrl = printed(output, 'MQTT broker');

    // The dashboard answers, with the cars linked through Connect.
    const page = await fetch(dashboardUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Voltkit smart charging</title>');
    // Nobody signed in sees nothing; the printed operator link signs in as admin and sees the fleet.
    expect((await fetch(new URL('api/dashboard', dashboardUrl))).status).toBe(401);
    const operator = await signIn(printed(output, 'operator'));
    const vehicles = await dashboardVehicles(dashboardUrl, operator);
    expect(vehicles.map((vehicle) => vehicle.name)).toEqual(BRANDS);
    // An owner link signs in as that car's owner, who sees their car only.
    const ownerCars = await dashboardVehicles(dashboardUrl, await signIn(printed(output, 'owner link')));
    expect(ownerCars).toHaveLength(1);

    // Home Assistant discovery and the bridge's state arrive at a real MQTT subscriber.
    const subscriber = await mqtt.connectAsync(brokerUrl, { protocolVersion: 4, reconnectPeriod: 0 });
    const bridgeStates: string[] = [];
    const discovered = new Set<string>();
    subscriber.on('message', (topic, payload) => {
      if (topic === 'voltkit/bridge/state') bridgeStates.push(payload.toString());
      else if (payload.length > 0) discovered.add(topic);
    });
    await subscriber.subscribeAsync(['homeassistant/device/+/config', 'voltkit/bridge/state'], { qos: 1 });
    const deadline = Date.now() + 30_000;
    const carTopics = vehicles.map((vehicle) => `homeassistant/device/voltkit_${vehicle.id}/config`);
    while (
      (!carTopics.every((topic) => discovered.has(topic)) || bridgeStates.length === 0) &&
      Date.now() < deadline
    )
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(carTopics.filter((topic) => !discovered.has(topic))).toEqual([]);
    expect(bridgeStates.at(-1)).toBe('online');

    // Ctrl-C: exit code 0, the bridge says offline before the broker goes, and nothing keeps serving.
    demo.child.kill('SIGINT');
    expect(await demo.exited).toBe(0);
    expect(demo.stdout()).toContain('Voltkit demo stopped.');
    expect(bridgeStates.at(-1)).toBe('offline');
    await subscriber.endAsync(true);
    // Nothing keeps serving: dashboard, simulator and broker ports are closed.
    await expect(fetch(dashboardUrl)).rejects.toThrow();
    await expect(fetch(`${printed(output, 'simulator')}/_simulator/health`)).rejects.toThrow();
    await expect(
      mqtt.connectAsync(brokerUrl, { reconnectPeriod: 0, connectTimeout: 2_000 }),
    ).rejects.toThrow();
  }, 150_000);

  it('picks up the stored state on a second start: the same cars, no duplicates', async () => {
    const demo = runDemo(['--data-dir', dataDir], ENV);
    try {
      await demo.waitForOutput('Ctrl-C stops everything.', 90_000);
      expect(demo.stdout()).toContain('vehicles:       5 (stored state)');
      expect(
        (
          await dashboardVehicles(
            printed(demo.stdout(), 'dashboard'),
            await signIn(printed(demo.stdout(), 'operator')),
          )
        ).map((vehicle) => vehicle.name),
      ).toEqual(BRANDS);
    } finally {
      demo.child.kill('SIGTERM');
    }
    expect(await demo.exited).toBe(0);
  }, 150_000);
});
