import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '@voltkit/simulator';

const MANAGEMENT_TOKEN = 'test-management-token-0123456789';
let sim: Simulator;

async function admin(method: string, path: string, body?: unknown, token = MANAGEMENT_TOKEN) {
  const response = await fetch(`${sim.url}/_simulator${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  sim = await createSimulator({
    clock: { mode: 'manual', start: new Date('2025-07-01T00:00:00Z') },
    managementToken: MANAGEMENT_TOKEN,
  });
});
afterAll(async () => {
  await sim.close();
});

describe('management HTTP API (/_simulator)', () => {
  it('needs its own bearer token, apart from app credentials', async () => {
    expect((await admin('GET', '/apps', undefined, 'wrong')).status).toBe(401);
    expect((await admin('GET', '/apps', undefined, sim.demoApp.managementToken)).status).toBe(401);
    const apps = await admin('GET', '/apps');
    expect(apps.status).toBe(200);
    expect(JSON.stringify(apps.body)).not.toContain(sim.demoApp.clientSecret);
    expect((await fetch(`${sim.url}/_simulator/health`)).status).toBe(200);
  });

  it('registers apps and accounts, authorizes, changes vehicles and moves the clock', async () => {
    const app = await admin('POST', '/apps', { name: 'Fleet', redirectUris: ['http://localhost:9999/cb'] });
    expect(app.body).toMatchObject({ name: 'Fleet', redirectUris: ['http://localhost:9999/cb'] });
    const account = await admin('POST', '/accounts', {
      email: 'fleet@example.com',
      brand: 'BMW',
      model: 'i8',
      vehicleCount: 2,
    });
    const vehicles = account.body['vehicles'] as { id: string; model: string }[];
    expect(vehicles.map((v) => v.model)).toEqual(['i8', 'i8']);
    const granted = await admin('POST', '/authorize', {
      clientId: app.body['clientId'],
      redirectUri: 'http://localhost:9999/cb',
      scope: 'read_battery read_charge',
      email: 'fleet@example.com',
      make: 'BMW',
    });
    expect(granted.body['vehicleIds']).toHaveLength(2);
    const id = vehicles[0]?.id ?? '';

    const patched = await admin('PATCH', `/vehicles/${id}`, {
      soc: 0.2,
      pluggedIn: true,
      stationKw: 3.7,
      doors: { frontLeft: 'OPEN' },
    });
    expect(patched.body).toMatchObject({
      state: { soc: 0.2, pluggedIn: true, chargeState: 'CHARGING', doors: { frontLeft: 'OPEN' } },
    });
    const bad = await admin('PATCH', `/vehicles/${id}`, { soc: 3 });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body['detail'])).toContain('soc');
    expect((await admin('PATCH', `/vehicles/${id}`, { wings: true })).status).toBe(400);
    expect(
      (await admin('PATCH', '/vehicles/00000000-0000-4000-8000-000000000000', { soc: 0.5 })).status,
    ).toBe(400);

    await admin('POST', '/clock/advance', { ms: 3_600_000 });
    const after = await admin('GET', `/vehicles/${id}`);
    expect((after.body['state'] as { soc: number }).soc).toBeGreaterThan(0.2);
    const clock = await admin('GET', '/clock');
    expect(clock.body).toMatchObject({ now: '2025-07-01T01:00:00.000Z', mode: 'manual' });
    expect((await admin('POST', '/clock/speed', { speed: 10 })).status).toBe(400);

    const drive = await admin('POST', `/vehicles/${id}/drive`, { distanceKm: 10, speedKph: 60 });
    expect(drive.body).toMatchObject({ state: { pluggedIn: false, drive: { remainingKm: 10 } } });
    await admin('POST', '/clock/advance', { ms: 600_000 });
    expect((await admin('GET', `/vehicles/${id}`)).body).toMatchObject({ state: { drive: null } });

    expect(
      (await admin('PUT', '/rate-limits', { vehicle: { capacity: 5, refillPerMinute: 1 } })).body,
    ).toMatchObject({
      app: null,
      vehicle: { capacity: 5, refillPerMinute: 1 },
    });
    expect(
      (await admin('POST', '/webhooks', { clientId: app.body['clientId'], url: 'not a url' })).status,
    ).toBe(400);
    const brands = await admin('GET', '/brands');
    expect(Array.isArray(brands.body) && brands.body.length).toBe(39);
  });
});

describe('voltkit-simulator command', () => {
  it('starts from the environment, prints the Connect URL and demo credentials, and stops on SIGTERM', async () => {
    const bin = fileURLToPath(new URL('../bin/voltkit-simulator.mjs', import.meta.url));
    const child = spawn(process.execPath, [bin], {
      env: { ...process.env, PORT: '0', CLOCK_SPEED: '60', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const lines: string[] = [];
      const reader = createInterface({ input: child.stdout });
      for await (const line of reader) {
        lines.push(line);
        if (line.startsWith('Clock:') || lines.length > 20) break;
      }
      const output = lines.join('\n');
      expect(output).toContain('Demo client id:     voltkit-demo-client');
      expect(output).toContain('Demo client secret: voltkit-demo-secret');
      expect(output).toContain('accelerated ×60');
      const connect = /Connect:\s+(\S+)/.exec(output)?.[1] ?? '';
      const page = await fetch(connect);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('id="continue-button"');
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });

  it('refuses a bad environment, naming the variable', async () => {
    const bin = fileURLToPath(new URL('../bin/voltkit-simulator.mjs', import.meta.url));
    const child = spawn(process.execPath, [bin], {
      env: { ...process.env, PORT: 'eighty' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(2);
    expect(stderr).toContain('PORT');
  });
});
