import { defineConfig, type UserConfig } from 'tsdown';

/**
 * How every app builds for plain `node`: ESM for Node 20.19, dependencies left as packages (workspace ones
 * resolve to their own dist/), nothing inlined. Tests and type-checks read src/ through the @voltkit/source
 * condition instead.
 */
export function appBuildConfig(entry: Record<string, string>): UserConfig {
  return defineConfig({
    entry,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    dts: false,
    sourcemap: true,
    clean: true,
    deps: { onlyBundle: [] },
  });
}
