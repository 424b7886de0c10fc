/** aWATTar DE day-ahead prices, hourly, 2020-01-01 → 2023-03-19, `start_ms;end_ms;price;Eur/MWh`. */
export declare const awattarDeHourlyCsv: string;
/** BDEW H25 standard household load profile, kWh per quarter-hour for 1,000,000 kWh/a. */
export declare const bdewH25Csv: string;
/** 954 EV charging sessions at the Caltech garage (ACN-Data), March 2019. */
export declare const acnCaltech201903Csv: string;
