import type { VehicleInfo } from './vehicle-source.ts';

/**
 * How brands write their own names, for makes the API returns in upper case. `short` is what the brand
 * puts in front of a model name where that differs (DS Automobiles sells the "DS 3").
 */
const BRANDS: Readonly<Record<string, { display: string; short?: string }>> = {
  'ALFA ROMEO': { display: 'Alfa Romeo' },
  BMW: { display: 'BMW' },
  CITROEN: { display: 'Citroën' },
  DS: { display: 'DS Automobiles', short: 'DS' },
  GMC: { display: 'GMC' },
  INFINITI: { display: 'INFINITI' },
  KIA: { display: 'Kia' },
  'LAND ROVER': { display: 'Land Rover' },
  'MERCEDES-BENZ': { display: 'Mercedes-Benz' },
  MINI: { display: 'MINI' },
  RAM: { display: 'Ram' },
  SKODA: { display: 'Škoda' },
};

const titleCase = (make: string): string =>
  make
    .toLowerCase()
    .split(/([ -])/)
    .map((part) => (part.length > 0 ? part[0]!.toUpperCase() + part.slice(1) : part))
    .join('');

const key = (make: string): string => make.trim().toUpperCase().replace(/_/g, ' ');

/** The manufacturer as Home Assistant should show it: `Tesla`, `Citroën`, `BMW`, `Mercedes-Benz`. */
export function manufacturerName(make: string): string {
  const known = BRANDS[key(make)];
  if (known) return known.display;
  // Short all-caps makes are usually acronyms (`KIA` is the exception the table would list).
  return make.length <= 3 && make === make.toUpperCase() ? make : titleCase(make);
}

const fold = (text: string): string =>
  text
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .toLowerCase();

/** `Tesla Model 3`, `DS 3 Crossback E-Tense` (not `DS DS 3 …`), `Citroën C5 X`; the slug when nothing is known. */
export function vehicleDisplayName(info: VehicleInfo, slug: string): string {
  if (!info.make) return info.model ?? `Vehicle ${slug}`;
  const brand = BRANDS[key(info.make)];
  const prefix = brand?.short ?? manufacturerName(info.make);
  if (!info.model) return prefix;
  const model = fold(info.model);
  const repeatsBrand = [prefix, manufacturerName(info.make), info.make].some((name) => {
    const folded = fold(name);
    return model === folded || model.startsWith(`${folded} `) || model.startsWith(`${folded}-`);
  });
  return repeatsBrand ? info.model : `${prefix} ${info.model}`;
}
