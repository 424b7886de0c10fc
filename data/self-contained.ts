// Finds references from the repository's files to paths outside it: a clone must be the whole product.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';

export interface OutsideReference {
  /** File that holds the reference, relative to the root. */
  readonly file: string;
  readonly line: number;
  readonly reference: string;
  readonly why: string;
}

const TEXT_EXTENSIONS = new Set([
  '.ts',
  '.mts',
  '.js',
  '.mjs',
  '.cjs',
  '.json',
  '.md',
  '.yaml',
  '.yml',
  '.sh',
  '',
]);
const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.turbo', '.data', '.git', 'coverage']);

/** Absolute paths of a developer's or CI's machine (scratch space under /tmp is fine). */
const MACHINE_PATH = /(?:^|[\s'"`(=:])((?:\/work|\/home|\/root|\/Users|\/mnt|[A-Z]:\\)[\\/][^\s'"`)]*)/g;
/** Relative paths, as string literals, URLs or Markdown link targets. */
const RELATIVE_PATH = /['"`(](\.\.(?:\/\.\.)*\/[^'"`)\s]*|\.\.)(?=['"`)\s])/g;

/** Tracked files (git), or every file outside build and dependency folders when there is no git. */
export function listRepositoryFiles(root: string): string[] {
  if (existsSync(join(root, '.git'))) {
    const out = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' });
    return out.split('\0').filter((file) => file !== '' && existsSync(join(root, file)));
  }
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) walk(join(dir, entry.name));
      } else files.push(join(dir, entry.name));
    }
  };
  walk('');
  return files;
}

export function findOutsideReferences(root: string, files: readonly string[]): OutsideReference[] {
  const found: OutsideReference[] = [];
  const rootDir = resolve(root);
  for (const file of files) {
    if (!TEXT_EXTENSIONS.has(extname(file)) || statSync(join(root, file)).size > 2_000_000) continue;
    const lines = readFileSync(join(root, file), 'utf8').split('\n');
    lines.forEach((text, index) => {
      for (const match of text.matchAll(MACHINE_PATH)) {
        found.push({ file, line: index + 1, reference: match[1]!, why: 'an absolute path of one machine' });
      }
      for (const match of text.matchAll(RELATIVE_PATH)) {
        const target = resolve(rootDir, dirname(file), match[1]!);
        if (target !== rootDir && !target.startsWith(rootDir + sep)) {
          found.push({
            file,
            line: index + 1,
            reference: match[1]!,
            why: `resolves to ${relative(rootDir, target)}, outside the repository`,
          });
        }
      }
    });
  }
  return found;
}
