import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { awattarDeHourlyCsv } from '@voltkit/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchPrices } from './price-feed.ts';

const REAL_PRICES = awattarDeHourlyCsv;

describe('price feed', () => {
  let server: Server;
  let origin: string;
  const requests: string[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      requests.push(request.url ?? '');
      const url = new URL(request.url ?? '/', 'http://x');
      const start = Number(url.searchParams.get('start'));
      const data = [0, 1, 2].map((h) => ({
        start_timestamp: start + h * 3_600_000,
        end_timestamp: start + (h + 1) * 3_600_000,
        marketprice: [85.3, -12.5, 40][h],
        unit: 'Eur/MWh',
      }));
      response.writeHead(request.url?.includes('fail') ? 503 : 200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ object: 'list', data, url: '/at/v1/marketdata' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('fetches aWATTar day-ahead prices over HTTP and converts them to per kWh', async () => {
    const from = new Date('2026-11-21T23:00:00Z');
    const { slots } = await fetchPrices(
      { source: 'awattar-de', origins: { 'awattar-de': origin } },
      from,
      new Date('2026-11-22T02:00:00Z'),
    );
    expect(requests.at(-1)).toBe(
      `/v1/marketdata?start=${from.getTime()}&end=${Date.parse('2026-11-22T02:00:00Z')}`,
    );
    expect(slots.map((s) => [s.start.toISOString(), Math.round(s.pricePerKwh * 100_000) / 100_000])).toEqual([
      ['2026-11-21T23:00:00.000Z', 0.0853],
      ['2026-11-22T00:00:00.000Z', -0.0125],
      ['2026-11-22T01:00:00.000Z', 0.04],
    ]);
  });

  it('names the source, never the URL with its token, when the API fails', async () => {
    const error = await fetchPrices(
      { source: 'entsoe', entsoeToken: 'secret-token-123', origins: { entsoe: `${origin}/fail` } },
      new Date('2026-11-21T00:00:00Z'),
      new Date('2026-11-22T00:00:00Z'),
    ).then(
      () => new Error('expected the fetch to fail'),
      (caught: unknown) => caught as Error,
    );
    expect(error.message).toBe('entsoe: price API answered HTTP 503');
    expect(error.message).not.toContain('secret-token-123');
  });

  it('replays real history from a file onto the requested days', async () => {
    const { slots, note } = await fetchPrices(
      { source: `file:${REAL_PRICES}` },
      new Date('2026-11-21T00:00:00Z'),
      new Date('2026-11-23T00:00:00Z'),
    );
    expect(slots).toHaveLength(48);
    expect(slots[0]!.start.toISOString()).toBe('2026-11-21T00:00:00.000Z');
    expect(note).toBe('replayed from awattar-de-hourly.csv (2022-11-21, 2022-11-22)');
    // The first slot carries the real price of 2022-11-21 00:00 UTC from the file, in EUR/kWh.
    const row = readFileSync(REAL_PRICES, 'utf8')
      .split('\n')
      .find((line) => line.startsWith(`${Date.UTC(2022, 10, 21)};`))!;
    expect(slots[0]!.pricePerKwh).toBeCloseTo(Number(row.split(';')[2]) / 1000, 9);
    expect(slots.every((slot, k) => k === 0 || slot.start.getTime() === slots[k - 1]!.end.getTime())).toBe(
      true,
    );
  });

  it('prices a window from a real time-of-use tariff in the site time zone', async () => {
    const tariffFile = fileURLToPath(
      new URL('../planner/__fixtures__/sce_tou_ev_8_june_2019.json', import.meta.url),
    );
    const tariff = JSON.parse(readFileSync(tariffFile, 'utf8')) as {
      schedule: {
        dow_mask: string;
        times: number[];
        tariffs: number[];
        effective_start: string;
        effective_end: string;
      }[];
    };
    // A summer weekday in Los Angeles, midnight to midnight local time.
    const from = new Date('2019-06-12T07:00:00Z');
    const { slots, note } = await fetchPrices(
      { source: `file:${tariffFile}`, timeZone: 'America/Los_Angeles' },
      from,
      new Date('2019-06-13T07:00:00Z'),
    );
    expect(slots).toHaveLength(96);
    expect(note).toContain('America/Los_Angeles');
    // The file's weekday band at local hour h must be the price of the slots in that hour.
    const weekday =
      tariff.schedule.find(
        (entry) =>
          entry.dow_mask === 'WEEKDAYS' && entry.effective_start <= '06-12' && '06-12' <= entry.effective_end,
      ) ?? tariff.schedule.find((entry) => entry.dow_mask === 'WEEKDAYS')!;
    const bandPrice = (hour: number) => {
      let price = weekday.tariffs[0]!;
      weekday.times.forEach((start, k) => {
        if (hour >= start) price = weekday.tariffs[k]!;
      });
      return price;
    };
    for (const hour of [0, 9, 14, 17, 21])
      expect(slots[hour * 4]!.pricePerKwh).toBeCloseTo(bandPrice(hour), 9);
  });
});
