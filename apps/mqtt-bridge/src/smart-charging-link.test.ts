import { describe, expect, it } from 'vitest';
import {
  createSmartChargingLink,
  nextChargeWindow,
  SmartChargingLinkError,
  smartChargingView,
} from './smart-charging-link.ts';
import type { ServiceTransport } from './smart-charging-link.ts';

type Dashboard = Parameters<typeof nextChargeWindow>[0];

type Row = Dashboard['vehicles'][number];

/** A dashboard of `slots`, with a row per car named in their `kw` (`rows` give the rest of a car's row). */
function dashboard(
  slots: { start: string; price: number; kw: Record<string, number>; assumed?: boolean }[],
  rows: Omit<Row, 'plannedKw'>[] = [],
): Dashboard {
  const ids = [...new Set([...slots.flatMap((slot) => Object.keys(slot.kw)), ...rows.map((row) => row.id)])];
  const vehicles = ids.map((id): Row => ({
    id,
    targetSoc: 0.8,
    departure: null,
    socTrajectory: [],
    shortfall: null,
    costPlanned: null,
    costOnArrival: null,
    ...rows.find((row) => row.id === id),
    plannedKw: slots.map((slot) => slot.kw[id] ?? 0),
  }));
  return {
    generatedAt: '2026-11-24T22:00:00.000Z',
    currency: 'EUR',
    timeZone: 'Europe/Berlin',
    planReason: 'test',
    fleet: {
      slots: slots.map((slot) => ({
        start: slot.start,
        pricePerKwh: slot.price,
        priceAssumed: slot.assumed ?? false,
      })),
    },
    vehicles,
  };
}

const SLOTS = [
  { start: '2026-11-24T23:00:00.000Z', price: 0.3, kw: { a: 0, b: 7 } },
  { start: '2026-11-24T23:15:00.000Z', price: 0.2, kw: { a: 7.4, b: 7 } },
  { start: '2026-11-24T23:30:00.000Z', price: 0.1, kw: { a: 3.7 } },
  { start: '2026-11-24T23:45:00.000Z', price: 0.1, kw: { a: 0 } },
  { start: '2026-11-25T00:00:00.000Z', price: 0.05, kw: { a: 7.4 } },
];

describe('nextChargeWindow', () => {
  it('is the first run of charging slots from now on, with its energy, costed at the slot prices', () => {
    expect(nextChargeWindow(dashboard(SLOTS), 'a', new Date('2026-11-24T22:00:00Z'))).toEqual({
      start: new Date('2026-11-24T23:15:00Z'),
      end: new Date('2026-11-24T23:45:00Z'),
      cost: 7.4 * 0.25 * 0.2 + 3.7 * 0.25 * 0.1,
      currency: 'EUR',
      energyKwh: 7.4 * 0.25 + 3.7 * 0.25,
    });
  });

  it('skips slots that are over, keeps the one in progress, and says null when nothing is planned', () => {
    expect(nextChargeWindow(dashboard(SLOTS), 'a', new Date('2026-11-24T23:50:00Z'))?.start).toEqual(
      new Date('2026-11-25T00:00:00Z'),
    );
    expect(nextChargeWindow(dashboard(SLOTS), 'b', new Date('2026-11-24T23:20:00Z'))?.start).toEqual(
      new Date('2026-11-24T23:15:00Z'),
    );
    expect(nextChargeWindow(dashboard(SLOTS), 'b', new Date('2026-11-24T23:30:00Z'))).toBeNull();
    expect(nextChargeWindow(dashboard(SLOTS), 'unknown', new Date('2026-11-24T22:00:00Z'))).toBeNull();
  });

  it('says the cost is unknown when a slot of the window has no real price', () => {
    const slots = SLOTS.map((slot, index) => (index === 2 ? { ...slot, assumed: true } : slot));
    const window = nextChargeWindow(dashboard(slots), 'a', new Date('2026-11-24T22:00:00Z'));
    expect(window?.cost).toBeNull();
    expect(window?.end).toEqual(new Date('2026-11-24T23:45:00Z'));
  });
});

describe('smartChargingView', () => {
  const row = {
    id: 'a',
    targetSoc: 0.8,
    // Departure 00:45 Berlin = 23:45Z: the SoC at the end of the 23:30 slot.
    departure: '2026-11-24T23:45:00.000Z',
    socTrajectory: [0.4, 0.5, 0.6, 0.6, 0.7],
    shortfall: null,
    costPlanned: 1.2,
    costOnArrival: 2.0,
  };
  const vehicle = {
    id: 'a',
    make: 'TESLA',
    model: 'Model 3',
    year: 2024,
    batteryCapacityKwh: 75,
    grantStatus: 'active',
    state: null,
    mode: 'smart' as const,
    chargeNow: false,
  };
  const preferences = { departures: {}, targetSoc: 0.8, minimumSoc: 0.2 };

  it('names the mode, targets, local departure, expected SoC at departure, savings and the slots', () => {
    const view = smartChargingView(dashboard(SLOTS, [row]), vehicle, preferences);
    expect(view).toMatchObject({
      mode: 'smart',
      targetSocPercent: 80,
      minimumSocPercent: 20,
      departureTime: '00:45',
      expectedSocAtDeparturePercent: 60,
      savings: 0.8,
      currency: 'EUR',
    });
    expect(view.slots[1]).toEqual({ start: '2026-11-24T23:15:00.000Z', kw: 7.4, price: 0.2, soc: 50 });
  });

  it('leaves what it does not know unknown', () => {
    const view = smartChargingView(
      dashboard(SLOTS, [{ ...row, departure: null, costPlanned: null, socTrajectory: [] }]),
      { ...vehicle, mode: undefined, chargeNow: true },
      preferences,
    );
    expect(view).toMatchObject({
      mode: 'now',
      departureTime: null,
      savings: null,
      expectedSocAtDeparturePercent: null,
    });
  });
});

describe('createSmartChargingLink', () => {
  /** The service's answers for one car's preferences, and what the bridge sent back. */
  function recording(departures: Record<string, string | null>, status = 200) {
    const sent: unknown[] = [];
    const transport: ServiceTransport = (method, _path, body) => {
      if (method === 'PUT') sent.push(body);
      return Promise.resolve(
        status === 200
          ? {
              status,
              body: { departures, oneOffDeparture: '2026-11-30T06:00:00Z', targetSoc: 0.8, minimumSoc: 0.2 },
            }
          : { status, body: { error: { message: 'no' } } },
      );
    };
    return { link: createSmartChargingLink(transport), sent };
  }

  it('sets a departure time on the days the car leaves (all days when none) and drops the one-off', async () => {
    const workdays = recording({ monday: '07:30', tuesday: '07:30', saturday: null });
    await workdays.link.updatePreferences('a', { departureTime: '06:15' });
    expect(workdays.sent[0]).toMatchObject({
      departures: { monday: '06:15', tuesday: '06:15', saturday: null },
      oneOffDeparture: null,
    });
    const none = recording({ monday: null, sunday: null });
    await none.link.updatePreferences('a', { departureTime: '08:00', targetSocPercent: 90 });
    expect(none.sent[0]).toMatchObject({ departures: { monday: '08:00', sunday: '08:00' }, targetSoc: 0.9 });
    const off = recording({ monday: '07:30' });
    await off.link.updatePreferences('a', { departureTime: null });
    expect(off.sent[0]).toMatchObject({ departures: { monday: null } });
  });

  it('turns refusals into errors that say what to do, never echoing the token', async () => {
    for (const [status, code] of [
      [401, 'REFUSED'],
      [403, 'FORBIDDEN'],
      [404, 'NOT_FOUND'],
      [400, 'INVALID'],
      [502, 'UNREACHABLE'],
    ] as const) {
      const error = await recording({}, status)
        .link.setMode('a', 'now')
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(SmartChargingLinkError);
      expect((error as SmartChargingLinkError).code).toBe(code);
    }
  });
});

describe('createSmartChargingLink snapshot', () => {
  const START = Date.parse('2026-11-24T23:00:00Z');
  const car = (id: string) => ({
    id,
    make: 'KIA',
    model: 'EV6',
    year: 2024,
    batteryCapacityKwh: 77,
    grantStatus: 'active',
    state: null,
    chargeNow: false,
  });

  /**
   * The service as the bridge sees it: a paged car list and a dashboard that, like the service's fleet
   * view, lists only the cars it is asked for (at most 100). `moves` re-plans shift its slots on the
   * first reads after the first page.
   */
  function service(count: number, moves = 0) {
    const ids = Array.from({ length: count }, (_, index) => `car-${String(index).padStart(4, '0')}`);
    const dashboards: string[][] = [];
    let shift = 0;
    const transport: ServiceTransport = (_method, path) => {
      const url = new URL(path, 'http://service/');
      if (url.pathname === '/api/vehicles') {
        const from = Number(url.searchParams.get('cursor') ?? 0);
        const limit = Number(url.searchParams.get('limit'));
        const next = from + limit < count ? String(from + limit) : null;
        return Promise.resolve({
          status: 200,
          body: { items: ids.slice(from, from + limit).map(car), nextCursor: next },
        });
      }
      if (url.pathname === '/api/dashboard') {
        const asked = url.searchParams.get('vehicleIds')?.split(',') ?? [];
        if (asked.length > 100)
          return Promise.resolve({ status: 400, body: { error: { message: 'at most 100 vehicle ids' } } });
        dashboards.push(asked);
        if (dashboards.length > 1 && moves > 0) {
          moves -= 1;
          shift += 1;
        }
        const starts = [0, 1].map((t) => new Date(START + (t + shift) * 15 * 60_000).toISOString());
        return Promise.resolve({
          status: 200,
          body: dashboard(
            starts.map((start, t) => ({
              start,
              price: 0.1,
              kw: Object.fromEntries(asked.map((id) => [id, Number(id.slice(4)) + t])),
            })),
          ),
        });
      }
      return Promise.resolve({ status: 200, body: { departures: {}, targetSoc: 0.8, minimumSoc: 0.2 } });
    };
    return { link: createSmartChargingLink(transport), dashboards };
  }

  it('reads a fleet beyond one dashboard page in pages of at most 100 cars, each car its own kW', async () => {
    const { link, dashboards } = service(250);
    const views = await link.snapshot();
    expect(dashboards.map((page) => page.length)).toEqual([100, 100, 50]);
    expect(views.size).toBe(250);
    expect(views.get('car-0000')?.slots.map((slot) => slot.kw)).toEqual([0, 1]);
    expect(views.get('car-0249')?.slots.map((slot) => slot.kw)).toEqual([249, 250]);
  });

  it('reads the pages again when a re-plan moved the slots between them, and says so after three tries', async () => {
    const once = service(150, 1);
    const views = await once.link.snapshot();
    expect(once.dashboards).toHaveLength(4);
    expect(views.get('car-0149')?.slots.map((slot) => slot.start)).toEqual([
      new Date(START + 15 * 60_000).toISOString(),
      new Date(START + 30 * 60_000).toISOString(),
    ]);
    const error = await service(150, 10)
      .link.snapshot()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SmartChargingLinkError);
    expect((error as Error).message).toContain('moved during each of 3 reads');
  });
});
