import { afterEach, describe, expect, it } from 'vitest';
import { VEHICLE_ENDPOINTS } from '@voltkit/core/permissions';
import { createSimulator, type Simulator } from '@voltkit/simulator';
import { connectedToken } from './helpers.ts';

/**
 * Vehicle data reads are answered by the fast lane (src/http/fast-lane.ts) unless anything is unusual; a
 * query (`?via=route`, which no endpoint reads) sends the same request through the Fastify route instead. Both must
 * give the same answer, and checks must count once.
 */

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function connected(
  scope: string,
  options: Parameters<typeof createSimulator>[0] = {},
): Promise<{ sim: Simulator; token: string; vehicleId: string }> {
  const started = await createSimulator({ clock: { mode: 'manual' }, ...options });
  sim = started;
  const { token, vehicleIds } = await connectedToken(started, {
    scope,
    email: `lane-${Math.random()}@example.com`,
    make: 'TESLA',
  });
  return { sim: started, token, vehicleId: vehicleIds[0] ?? '' };
}

interface Answer {
  status: number;
  headers: [string, string][];
  body: Record<string, unknown>;
}

function headerPairs(headers: Headers): [string, string][] {
  const pairs: [string, string][] = [];
  headers.forEach((value, name) => pairs.push([name, value]));
  return pairs;
}

async function read(url: string, headers: Record<string, string>): Promise<Answer> {
  const response = await fetch(url, { headers });
  const body = (await response.json()) as Record<string, unknown>;
  return { status: response.status, headers: headerPairs(response.headers), body };
}

/** What differs between any two answers: the request id (and its echo in error bodies) and the clock. */
function comparable(answer: Answer): unknown {
  const { requestId: _requestId, ...body } = answer.body;
  return {
    status: answer.status,
    headers: answer.headers
      .filter(([name]) => name !== 'date')
      .map(([name, value]) => [name, name === 'sc-request-id' ? typeof value : value]),
    body,
  };
}

const DATA_PATHS = Object.values(VEHICLE_ENDPOINTS)
  .filter((endpoint) => endpoint.kind === 'data')
  .map((endpoint) => endpoint.path);

describe('the fast lane answers exactly as the route does', () => {
  it('for every data endpoint, in both unit systems, scoped or not', async () => {
    // A grant with some scopes: the others must be refused alike (403), unsupported ones alike (501).
    const { sim, token, vehicleId } = await connected('read_battery read_odometer read_vehicle_info');
    const base = `${sim.url}/v2.0/vehicles/${vehicleId}`;
    for (const path of DATA_PATHS) {
      for (const units of ['metric', 'imperial']) {
        const headers = { authorization: `Bearer ${token}`, 'sc-unit-system': units };
        const fast = await read(`${base}${path}`, headers);
        const routed = await read(`${base}${path}?via=route`, headers);
        expect(comparable(fast), path).toEqual(comparable(routed));
      }
    }
    const battery = await read(`${base}/battery`, { authorization: `Bearer ${token}` });
    expect(battery.status).toBe(200);
    expect(battery.headers.map(([name]) => name)).toEqual(
      expect.arrayContaining(['content-length', 'sc-data-age', 'sc-fetched-at', 'sc-request-id']),
    );
  });

  it('for refusals: no token, a bad token, another vehicle, asleep, a forced error', async () => {
    const { sim, token, vehicleId } = await connected('read_battery');
    const base = `${sim.url}/v2.0/vehicles/${vehicleId}`;
    const cases: [string, Record<string, string>][] = [
      [`${base}/battery`, {}],
      [`${base}/battery`, { authorization: 'Bearer not-a-token' }],
      [
        `${sim.url}/v2.0/vehicles/00000000-0000-4000-8000-000000000000/battery`,
        { authorization: `Bearer ${token}` },
      ],
    ];
    for (const [url, headers] of cases) {
      const fast = await read(url, headers);
      expect(fast.status, url).toBe(401);
      expect(comparable(fast)).toEqual(comparable(await read(`${url}?via=route`, headers)));
    }
    const headers = { authorization: `Bearer ${token}` };
    sim.updateVehicle(vehicleId, { asleep: true });
    const asleep = await read(`${base}/battery`, headers);
    expect(asleep.status).toBe(409);
    expect(comparable(asleep)).toEqual(comparable(await read(`${base}/battery?via=route`, headers)));
    sim.updateVehicle(vehicleId, {
      asleep: false,
      forcedError: { type: 'VEHICLE_STATE', code: 'UNREACHABLE' },
    });
    const forced = await read(`${base}/battery`, headers);
    expect(forced.status).toBe(409);
    expect(comparable(forced)).toEqual(comparable(await read(`${base}/battery?via=route`, headers)));
  });

  it('takes one rate-limit token per request and answers the 429 as the route does', async () => {
    const { sim, token, vehicleId } = await connected('read_battery', {
      rateLimits: { app: null, vehicle: { capacity: 3, refillPerMinute: 1 } },
    });
    const url = `${sim.url}/v2.0/vehicles/${vehicleId}/battery`;
    const headers = { authorization: `Bearer ${token}` };
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await read(url, headers)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await read(url, headers);
    expect(comparable(limited)).toEqual(comparable(await read(`${url}?via=route`, headers)));
    expect(limited.headers).toContainEqual(['retry-after', expect.any(String)]);
  });
});
