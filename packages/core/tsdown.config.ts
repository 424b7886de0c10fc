import { defineConfig, type UserConfig } from 'tsdown';

const config: UserConfig = defineConfig({
  entry: {
    index: 'src/index.ts',
    client: 'src/client/index.ts',
    permissions: 'src/permissions/index.ts',
    types: 'src/types/index.ts',
    v3: 'src/v3/index.ts',
  },
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  dts: true,
  sourcemap: true,
  clean: true,
  // zod is a peer dependency; nothing else may be inlined into the bundle.
  deps: { neverBundle: ['zod'], onlyBundle: [] },
});

export default config;
