import { describe, expect, it } from 'vitest';
import {
  PriceImportError,
  parseAwattarJson,
  parseEntsoeXml,
  parseOctopusAgileJson,
  parsePriceCsv,
} from './price-import.ts';
import { fixture } from './testing/fixtures.ts';

describe('price importers', () => {
  it('reads the aWATTar archive CSV (EUR/MWh → EUR/kWh) including a 23-hour DST day and negative prices', () => {
    const points = parsePriceCsv(fixture('awattar-de-2022-03-26_28.csv'));
    const dstDay = points.filter(
      (p) =>
        p.startMs >= Date.parse('2022-03-27T00:00:00+01:00') &&
        p.startMs < Date.parse('2022-03-28T00:00:00+02:00'),
    );
    expect(dstDay).toHaveLength(23);
    expect(points[0]).toEqual({ startMs: 1648249200000, endMs: 1648252800000, pricePerKwh: 0.23596 });
    expect(parsePriceCsv(fixture('awattar-de-2020-02-09_10.csv')).some((p) => p.pricePerKwh < 0)).toBe(true);
  });

  it('reads a headed 15-min CSV with ISO times and units', () => {
    const points = parsePriceCsv(fixture('prices-15min-header.csv'));
    expect(points).toHaveLength(4);
    expect(points[3]!.pricePerKwh).toBeCloseTo(-0.0032, 12);
    expect(points[3]!.endMs - points[3]!.startMs).toBe(15 * 60_000);
  });

  it('reads aWATTar API JSON', () => {
    const points = parseAwattarJson(fixture('awattar-2023-01-01.json'));
    expect(points).toHaveLength(24);
    expect(points.every((p, k) => k === 0 || p.startMs === points[k - 1]!.endMs)).toBe(true);
  });

  it('reads ENTSO-E A44 XML, filling A03 curve gaps with the previous point (25-hour day)', () => {
    const points = parseEntsoeXml(fixture('entsoe-a44-de-2022-10-30.xml'));
    expect(points).toHaveLength(25);
    expect(points[5]!.pricePerKwh).toBe(points[4]!.pricePerKwh);
    expect(points[6]!.pricePerKwh).toBe(points[4]!.pricePerKwh);
    const csv = parsePriceCsv(fixture('awattar-de-2022-10-29_31.csv'));
    const sameHour = csv.find((p) => p.startMs === points[10]!.startMs)!;
    expect(points[10]!.pricePerKwh).toBeCloseTo(sameHour.pricePerKwh, 9);
  });

  it('reads Octopus Agile JSON (pence → pounds, newest first → ascending)', () => {
    const points = parseOctopusAgileJson(fixture('octopus-agile-2023-03-26.json'));
    expect(points).toHaveLength(8);
    expect(points[0]!.startMs).toBe(Date.parse('2023-03-26T00:00:00Z'));
    expect(points[3]!.pricePerKwh).toBeCloseTo(-0.01575, 12);
    expect(
      parseOctopusAgileJson(fixture('octopus-agile-2023-03-26.json'), { includeVat: false })[3]!.pricePerKwh,
    ).toBeCloseTo(-0.015, 12);
  });

  it('names the bad field in errors', () => {
    expect(() =>
      parseAwattarJson('{"data":[{"start_timestamp":"x","end_timestamp":1,"marketprice":1}]}'),
    ).toThrow(/data\.0\.start_timestamp/);
    expect(() => parseOctopusAgileJson('{"results":[{"valid_from":"yesterday"}]}')).toThrow(PriceImportError);
    expect(() => parsePriceCsv('start,price,unit\n2024-01-01T00:00Z,abc,EUR/MWh\n')).toThrow(/row 2 price/);
    expect(() =>
      parseEntsoeXml(
        '<Acknowledgement_MarketDocument><Reason><text>No matching data found</text></Reason></Acknowledgement_MarketDocument>',
      ),
    ).toThrow(/No matching data found/);
    expect(() => parsePriceCsv('1648249200000;1648252800000;3;EUR/MW')).toThrow(/unknown price unit/);
  });
});
