import { defineConfig, type UserConfig } from 'tsdown';

// The browser pages: bundled (d3 inlined, minified) into dist/web, which the service serves as static files.
const config: UserConfig = defineConfig({
  entry: { console: 'src/web/console.ts', owner: 'src/web/owner.ts' },
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  outDir: 'dist/web',
  outExtensions: () => ({ js: '.js' }),
  dts: false,
  sourcemap: true,
  minify: true,
  clean: true,
  deps: { alwaysBundle: [/^d3-/, /^internmap$/] },
  copy: ['src/web/pages/console.html', 'src/web/pages/owner.html', 'src/web/pages/style.css'],
});

export default config;
