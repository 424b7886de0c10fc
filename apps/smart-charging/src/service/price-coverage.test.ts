import { describe, expect, it } from 'vitest';
import { describePriceCoverage, findPriceGaps } from './price-coverage.ts';

const at = (hour: number) => new Date(Date.UTC(2026, 11, 1, hour));
const slot = (from: number, to: number) => ({ start: at(from), end: at(to), pricePerKwh: 0.1 });

describe('price coverage', () => {
  it('finds nothing missing when slots cover the window, even past its ends', () => {
    expect(findPriceGaps([slot(0, 2), slot(2, 5)], at(1), at(4))).toEqual([]);
  });

  it('lists a gap at the start, in the middle and at the end', () => {
    expect(findPriceGaps([slot(2, 3), slot(5, 6)], at(0), at(8))).toEqual([
      { start: at(0), end: at(2) },
      { start: at(3), end: at(5) },
      { start: at(6), end: at(8) },
    ]);
  });

  it('treats an empty series as one gap over the whole window', () => {
    expect(findPriceGaps([], at(0), at(24))).toEqual([{ start: at(0), end: at(24) }]);
  });

  it('handles overlapping slots of different lengths without inventing gaps', () => {
    expect(findPriceGaps([slot(0, 4), slot(1, 2), slot(3, 6)], at(0), at(6))).toEqual([]);
  });

  it('names the source and the missing window, and the failed fetch', () => {
    const coverage = describePriceCoverage({
      source: 'file:/data/prices.csv',
      slots: [slot(0, 2)],
      from: at(0),
      to: at(4),
      fetchError: 'ENOENT: no such file',
    });
    expect(coverage.problem).toBe(
      'No prices from file:/data/prices.csv for 2026-12-01T02:00:00.000Z – 2026-12-01T04:00:00.000Z; ' +
        'the last price fetch from file:/data/prices.csv failed: ENOENT: no such file',
    );
    expect(
      describePriceCoverage({ source: 's', slots: [slot(0, 4)], from: at(0), to: at(4) }).problem,
    ).toBeNull();
  });
});
