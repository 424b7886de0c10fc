import { defineConfig } from 'vitest/config';

// For local watch mode only; CI runs `turbo run test` so results are cached per package.
export default defineConfig({ test: { projects: ['packages/*', 'apps/*', 'data'] } });
