import { fileURLToPath } from 'node:url';

/** The repository root, found from this file, never from the working directory. */
export const REPO_ROOT: string = fileURLToPath(new URL('../../../', import.meta.url));

/** Real German day-ahead prices (aWATTar, hourly, 2013–2023) shipped in ../shared/data. */
export const AWATTAR_PRICES: string = fileURLToPath(
  new URL('../../../../shared/data/prices/awattar-de-hourly.csv', import.meta.url),
);

/** BDEW H25 household load profile, as the smart-charging planner ships it. */
export const BDEW_PROFILE: string = fileURLToPath(
  new URL('../../smart-charging/src/planner/data/bdew-h25.csv', import.meta.url),
);

export const DEFAULT_DATA_DIR: string = fileURLToPath(new URL('../../../.data/demo', import.meta.url));
