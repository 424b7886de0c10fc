import { fileURLToPath } from 'node:url';

/** `<repo>/.data/demo`, found from this file, never from the working directory (`.data` is gitignored). */
export const DEFAULT_DATA_DIR: string = fileURLToPath(new URL('../../../.data/demo', import.meta.url));
