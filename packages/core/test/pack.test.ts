/**
 * Packs the package as npm would publish it, installs the tarball into a fresh project outside the
 * workspace (with zod and typescript from the registry), then type-checks and runs a TypeScript program
 * against it. Every step must succeed: there is no skip path.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const packageDir = dirname(dirname(fileURLToPath(import.meta.url)));

/** pnpm as it launched this run (it may not be on PATH when started through npx), else from PATH. */
function pnpm(args: string[]): Promise<{ stdout: string }> {
  const launcher = process.env['npm_execpath'];
  if (launcher !== undefined && /pnpm/.test(launcher))
    return run(process.execPath, [launcher, ...args], { cwd: packageDir });
  return run('pnpm', args, { cwd: packageDir });
}
let workDir: string | undefined;

afterAll(async () => {
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

const PROGRAM = `
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient, hashChallenge, isVoltkitError, type VehicleHandle } from '@voltkit/core/client';
import { checkEndpoint, scopesForFeatures } from '@voltkit/core/permissions';
import { BatterySchema, ERROR_TYPES, type Battery } from '@voltkit/core/types';
import { VoltkitError } from '@voltkit/core';
import { isTypedSignal, typeSignal } from '@voltkit/core/v3';

const server = createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.setHeader('sc-request-id', '5dea93a1-3f79-4246-90c5-89610a20471b');
  if (req.url?.endsWith('/battery')) {
    res.setHeader('sc-unit-system', 'metric');
    res.setHeader('sc-data-age', '2018-05-04T07:20:50.844Z');
    res.end(JSON.stringify({ percentRemaining: 0.42, range: 123 }));
    return;
  }
  res.statusCode = 409;
  res.end(JSON.stringify({ type: 'VEHICLE_STATE', code: 'ASLEEP', description: 'Asleep.', statusCode: 409 }));
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;

const client = createClient({ clientId: 'id', clientSecret: 'secret', origin: \`http://127.0.0.1:\${port}\`, retry: false });
await client.importGrant('g', {
  accessToken: 'token',
  refreshToken: 'refresh',
  expiration: new Date(Date.now() + 3_600_000),
  refreshExpiration: new Date(Date.now() + 86_400_000),
});
const car: VehicleHandle<'read_battery' | 'read_charge'> = client.grant('g').vehicle('v1', { scopes: ['read_battery', 'read_charge'] });
// @ts-expect-error control_security was not granted, so lock() must not exist on the type
void (() => car.lock());
const battery: Battery = await car.battery();
let asleep = '';
try {
  await car.charge();
} catch (error) {
  if (isVoltkitError(error) && error.type === 'VEHICLE_STATE' && error.code === 'ASLEEP') asleep = error.message;
}
const dataAge = (await car.battery()).meta.dataAge instanceof Date;
server.close();
console.log(JSON.stringify({
  battery: BatterySchema.parse({ percentRemaining: battery.percentRemaining, range: battery.range }),
  dataAge,
  asleep,
  instance: new VoltkitError({ type: 'NETWORK', code: 'CONNECTION', description: 'x' }) instanceof Error,
  check: checkEndpoint(['read_charge'], 'startCharge'),
  consent: scopesForFeatures(['battery']).scopeParam,
  billing: ERROR_TYPES.BILLING.status,
  challenge: hashChallenge('amt', 'challenge'),
  v3: (() => {
    const signal = typeSignal({ code: 'tractionbattery-stateofcharge', name: 'StateOfCharge', group: 'TractionBattery', status: { value: 'SUCCESS' }, body: { value: 42, unit: 'percent' } }, []);
    // Narrowing by code gives the body type of that signal.
    if (!isTypedSignal(signal) || signal.code !== 'tractionbattery-stateofcharge') return null;
    const percent: number | undefined = signal.body?.value;
    return percent;
  })(),
}));
`;

describe('published package', () => {
  it('packs, installs outside the workspace, type-checks and runs', { timeout: 240_000 }, async () => {
    await run(join(packageDir, 'node_modules', '.bin', 'tsdown'), [], { cwd: packageDir });
    workDir = await mkdtemp(join(tmpdir(), 'voltkit-pack-'));
    const packDir = join(workDir, 'pack');
    const projectDir = join(workDir, 'project');
    await pnpm(['pack', '--pack-destination', packDir]);
    const [tarball] = await readdir(packDir);
    expect(tarball).toMatch(/^voltkit-core-\d+\.\d+\.\d+\.tgz$/);
    const tarballPath = join(packDir, tarball!);

    const { stdout: listing } = await run('tar', ['-tzf', tarballPath]);
    const files = listing.split('\n').filter(Boolean);
    expect(files).toContain('package/dist/index.mjs');
    expect(files).toContain('package/dist/client.d.mts');
    expect(files).toContain('package/dist/v3.d.mts');
    // What a consumer must get with the code: the licence it is granted under and the docs.
    expect(files).toContain('package/LICENSE');
    expect(files).toContain('package/README.md');
    const { stdout: packedLicense } = await run('tar', ['-xzOf', tarballPath, 'package/LICENSE']);
    expect(packedLicense).toBe(await readFile(join(packageDir, '..', '..', 'LICENSE'), 'utf8'));
    const { stdout: packedManifest } = await run('tar', ['-xzOf', tarballPath, 'package/package.json']);
    expect(JSON.parse(packedManifest)).toMatchObject({
      license: 'MIT',
      author: expect.any(String),
      repository: { type: 'git', url: expect.stringMatching(/^git\+https:\/\//), directory: 'packages/core' },
      homepage: expect.stringMatching(/^https:\/\//),
      bugs: { url: expect.stringMatching(/^https:\/\//) },
    });
    expect(files.filter((file) => /\.test(-d)?\.ts$|__tests__/.test(file))).toEqual([]);

    await run('mkdir', ['-p', join(projectDir, 'src')]);
    await writeFile(
      join(projectDir, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
    );
    await writeFile(
      join(projectDir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          exactOptionalPropertyTypes: true,
          outDir: 'out',
          types: [],
          lib: ['ES2023', 'DOM'],
          skipLibCheck: false,
        },
        include: ['src'],
      }),
    );
    await writeFile(join(projectDir, 'src', 'main.ts'), PROGRAM);
    await run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        tarballPath,
        'zod@^4.1.0',
        'typescript@5.9.3',
        '@types/node@^20',
      ],
      {
        cwd: projectDir,
        env: { ...process.env, npm_config_workspaces: 'false' },
      },
    );
    // `types: []` above plus an explicit reference keeps the check honest about what the package needs.
    await writeFile(join(projectDir, 'src', 'env.d.ts'), '/// <reference types="node" />\n');
    await run(join(projectDir, 'node_modules', '.bin', 'tsc'), ['-p', '.'], { cwd: projectDir });
    const { stdout } = await run(process.execPath, [join(projectDir, 'out', 'main.js')], { cwd: projectDir });
    expect(JSON.parse(stdout)).toEqual({
      battery: { percentRemaining: 0.42, range: 123 },
      dataAge: true,
      asleep: 'VEHICLE_STATE:ASLEEP - Asleep.',
      instance: true,
      check: { allowed: false, missing: ['control_charge'] },
      consent: 'required:read_battery',
      billing: 430,
      challenge: '9baf5a7464bd86740ad5a06e439dcf535a075022ed2c92d74efacf646d79328e',
      v3: 42,
    });
  });
});
