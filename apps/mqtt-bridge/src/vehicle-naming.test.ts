import { describe, expect, it } from 'vitest';
import { manufacturerName, vehicleDisplayName } from './vehicle-naming.ts';

describe('vehicle naming', () => {
  it.each([
    ['TESLA', 'Tesla'],
    ['CITROEN', 'Citroën'],
    ['BMW', 'BMW'],
    ['DS', 'DS Automobiles'],
    ['INFINITI', 'INFINITI'],
    ['MERCEDES-BENZ', 'Mercedes-Benz'],
    ['LAND ROVER', 'Land Rover'],
    ['VOLKSWAGEN', 'Volkswagen'],
    ['KIA', 'Kia'],
  ])('shows the make %s as %s', (make, display) => {
    expect(manufacturerName(make)).toBe(display);
  });

  it.each([
    [{ make: 'DS', model: 'DS 3 Crossback E-Tense' }, 'DS 3 Crossback E-Tense'],
    [{ make: 'TESLA', model: 'Model 3' }, 'Tesla Model 3'],
    [{ make: 'CITROEN', model: 'C5 X' }, 'Citroën C5 X'],
    [{ make: 'BMW', model: 'iX' }, 'BMW iX'],
    [{ make: 'INFINITI', model: 'Q50' }, 'INFINITI Q50'],
    [{ make: 'POLESTAR', model: 'Polestar 2' }, 'Polestar 2'],
    [{}, 'Vehicle abc'],
  ])('names %j %s without doubling the brand', (info, name) => {
    expect(vehicleDisplayName({ id: 'x', ...info }, 'abc')).toBe(name);
  });
});
