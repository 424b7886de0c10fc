import { defineConfig, type UserConfig } from 'tsdown';

// Built for plain `node`: tests and type-checks read src/ through the @voltkit/source condition instead.
const config: UserConfig = defineConfig({
  entry: { index: 'src/index.ts', main: 'src/main.ts' },
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  dts: false,
  sourcemap: true,
  clean: true,
  // Dependencies stay packages (workspace ones resolve to their own dist/); nothing is inlined.
  deps: { onlyBundle: [] },
});

export default config;
