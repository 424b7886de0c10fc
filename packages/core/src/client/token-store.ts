import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { VoltkitError } from '../errors.ts';
import type { Access } from '../types/auth.ts';

/**
 * Where the client keeps tokens per grant. `set` must only resolve once the value is durable: the client
 * writes a refreshed token pair here before it uses the new access token, and Smartcar invalidates the old
 * refresh token shortly after a refresh.
 */
export interface TokenStore {
  get(grantId: string): Promise<Access | undefined>;
  set(grantId: string, access: Access): Promise<void>;
  delete(grantId: string): Promise<void>;
}

/** Keeps tokens in process memory (lost on exit). */
export function memoryTokenStore(initial?: Iterable<readonly [string, Access]>): TokenStore {
  const entries = new Map<string, Access>();
  for (const [grantId, access] of initial ?? []) entries.set(grantId, { ...access });
  return {
    get: (grantId) => {
      const access = entries.get(grantId);
      return Promise.resolve(access === undefined ? undefined : { ...access });
    },
    set: (grantId, access) => {
      entries.set(grantId, { ...access });
      return Promise.resolve();
    },
    delete: (grantId) => {
      entries.delete(grantId);
      return Promise.resolve();
    },
  };
}

const StoredAccessSchema = z.object({
  accessToken: z.string().min(1),
  refreshToken: z.string().min(1),
  expiration: z.iso.datetime().transform((value) => new Date(value)),
  refreshExpiration: z.iso.datetime().transform((value) => new Date(value)),
});
const StoredFileSchema = z.object({
  version: z.literal(1),
  grants: z.record(z.string(), StoredAccessSchema),
});

/**
 * Keeps tokens in one JSON file (mode 0600). Every write goes to a temporary file in the same directory,
 * is flushed to disk and then renamed over the old file, so a crash leaves either the old or the new
 * content, never a torn file. Writes from this process are serialised.
 */
export function fileTokenStore(path: string): TokenStore {
  let queue: Promise<unknown> = Promise.resolve();
  const serialised = <T>(task: () => Promise<T>): Promise<T> => {
    const run = queue.then(task, task);
    queue = run.catch(() => undefined);
    return run;
  };

  async function load(): Promise<Record<string, Access>> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      throw new VoltkitError({
        type: 'INVALID_INPUT',
        code: 'ARGUMENT',
        description: 'The token store file is not valid JSON.',
        cause,
      });
    }
    const parsed = StoredFileSchema.safeParse(json);
    if (!parsed.success) {
      throw new VoltkitError({
        type: 'INVALID_INPUT',
        code: 'ARGUMENT',
        description: 'The token store file does not have the expected shape.',
        issues: parsed.error.issues,
      });
    }
    return parsed.data.grants;
  }

  async function save(grants: Record<string, Access>): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    const serialisable = Object.fromEntries(
      Object.entries(grants).map(([grantId, access]) => [
        grantId,
        {
          accessToken: access.accessToken,
          refreshToken: access.refreshToken,
          expiration: access.expiration.toISOString(),
          refreshExpiration: access.refreshExpiration.toISOString(),
        },
      ]),
    );
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(JSON.stringify({ version: 1, grants: serialisable }, null, 2));
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temporary, path);
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
    // Make the rename itself durable.
    const directory = await open(dirname(path), 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  }

  return {
    get: (grantId) => serialised(async () => (await load())[grantId]),
    set: (grantId, access) =>
      serialised(async () => {
        const grants = await load();
        grants[grantId] = access;
        await save(grants);
      }),
    delete: (grantId) =>
      serialised(async () => {
        const grants = await load();
        if (!(grantId in grants)) return;
        delete grants[grantId];
        await save(grants);
      }),
  };
}
