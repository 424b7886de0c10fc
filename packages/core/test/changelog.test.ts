/**
 * `changeset version` on a copy of the workspace's manifests and pending changesets: it must bump
 * @voltkit/core and write its CHANGELOG.md from the changesets, as a release would.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repoDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
let workDir: string | undefined;

afterAll(async () => {
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

describe('release notes', () => {
  it('changeset version bumps the package and writes CHANGELOG.md from the pending changesets', async () => {
    const pending = (await readdir(join(repoDir, '.changeset'))).filter(
      (name) => name.endsWith('.md') && name !== 'README.md',
    );
    expect(pending.length).toBeGreaterThan(0);
    const core = JSON.parse(await readFile(join(repoDir, 'packages/core/package.json'), 'utf8')) as {
      version: string;
    };

    workDir = await mkdtemp(join(tmpdir(), 'voltkit-changeset-'));
    for (const file of ['package.json', 'pnpm-workspace.yaml'])
      await cp(join(repoDir, file), join(workDir, file));
    await cp(join(repoDir, '.changeset'), join(workDir, '.changeset'), { recursive: true });
    for (const dir of [
      'packages/core',
      'apps/simulator',
      'apps/smart-charging',
      'apps/mqtt-bridge',
      'apps/demo',
      'data',
    ]) {
      await mkdir(join(workDir, dir), { recursive: true });
      await cp(join(repoDir, dir, 'package.json'), join(workDir, dir, 'package.json'));
    }
    await run(join(repoDir, 'node_modules', '.bin', 'changeset'), ['version'], { cwd: workDir });

    const changelog = await readFile(join(workDir, 'packages/core/CHANGELOG.md'), 'utf8');
    const bumped = JSON.parse(await readFile(join(workDir, 'packages/core/package.json'), 'utf8')) as {
      version: string;
    };
    expect(bumped.version).not.toBe(core.version);
    expect(changelog).toMatch(
      new RegExp(`^# @voltkit/core\\n\\n## ${bumped.version.replaceAll('.', '\\.')}\\n`),
    );
    expect(changelog).toContain('First release: zod schemas for every Smartcar v2.0 request and response');
  }, 60_000);
});
