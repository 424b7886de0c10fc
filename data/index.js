// Absolute paths of the data files, resolved from this module so source, tests and built apps agree.
import { fileURLToPath } from 'node:url';

const here = (relative) => fileURLToPath(new URL(relative, import.meta.url));

/** aWATTar DE day-ahead prices, hourly, 2020-01-01 → 2023-03-19, `start_ms;end_ms;price;Eur/MWh`. */
export const awattarDeHourlyCsv = here('./prices/awattar-de-hourly.csv');

/** BDEW H25 standard household load profile, kWh per quarter-hour for 1,000,000 kWh/a. */
export const bdewH25Csv = here('./load/bdew-h25.csv');

/** 954 EV charging sessions at the Caltech garage (ACN-Data), March 2019. */
export const acnCaltech201903Csv = here('./sessions/acn-caltech-2019-03.csv');
