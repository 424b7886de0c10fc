import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findOutsideReferences, listRepositoryFiles } from './self-contained.ts';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

describe('a clone is the whole product', () => {
  it('no tracked file refers to a path outside the repository', () => {
    const files = listRepositoryFiles(repoRoot);
    expect(files.length).toBeGreaterThan(100);
    const outside = findOutsideReferences(repoRoot, files).map(
      (found) => `${found.file}:${found.line}: ${found.reference} (${found.why})`,
    );
    expect(outside).toEqual([]);
  });

  it('would catch a reader of the shared folder beside the clone, or of one machine', () => {
    const root = mkdtempSync(join(tmpdir(), 'voltkit-self-contained-'));
    mkdirSync(join(root, 'apps', 'x', 'src'), { recursive: true });
    const shared = ['..', '..', '..', '..', 'shared', 'data', 'prices.csv'].join('/');
    writeFileSync(
      join(root, 'apps', 'x', 'src', 'reader.ts'),
      [
        `const inside = new URL('${['..', '..', '..', 'data', 'prices.csv'].join('/')}', import.meta.url);`,
        `const outside = new URL('${shared}', import.meta.url);`,
        `const machine = '${['', 'work', 'shared', 'data'].join('/')}';`,
      ].join('\n'),
    );
    writeFileSync(join(root, 'README.md'), `See [the data](${['..', 'shared'].join('/')}/README.md).\n`);
    const found = findOutsideReferences(root, listRepositoryFiles(root));
    expect(found.map((entry) => `${entry.file}:${entry.line}`).sort()).toEqual([
      'README.md:1',
      `${join('apps', 'x', 'src', 'reader.ts')}:2`,
      `${join('apps', 'x', 'src', 'reader.ts')}:3`,
    ]);
  });
});
