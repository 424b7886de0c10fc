import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTokenCipher, newTokenKey, parseTokenKeys, type TokenCipher } from '../store/token-cipher.ts';

export const TOKEN_KEY_FILE = 'token-encryption.key';

/**
 * The cipher for Smartcar tokens at rest: keys from `TOKEN_ENCRYPTION_KEYS`, else from a key file under the
 * data directory, created with mode 0600 on first run (the embedded default). The file holds the same
 * syntax, one key a line; to rotate, put a new key first and restart (rows move over at start).
 */
export async function loadTokenCipher(options: {
  readonly keys?: string | undefined;
  readonly dataDir: string;
}): Promise<{ cipher: TokenCipher; source: string }> {
  if (options.keys !== undefined)
    return { cipher: createTokenCipher(parseTokenKeys(options.keys)), source: 'TOKEN_ENCRYPTION_KEYS' };
  const path = join(options.dataDir, TOKEN_KEY_FILE);
  if (!existsSync(path)) {
    await mkdir(options.dataDir, { recursive: true });
    // `wx`: never overwrite a key another process just wrote.
    await writeFile(path, `${newTokenKey('k1')}\n`, { mode: 0o600, flag: 'wx' }).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    });
  }
  const info = await stat(path);
  if ((info.mode & 0o077) !== 0) await chmod(path, 0o600);
  return { cipher: createTokenCipher(parseTokenKeys(await readFile(path, 'utf8'))), source: path };
}
