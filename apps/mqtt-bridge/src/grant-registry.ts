import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';

const RegistrySchema = z.object({
  grants: z.array(z.object({ id: z.string().min(1), connectedAt: z.string() })),
});
type Registry = z.infer<typeof RegistrySchema>;

/**
 * Which grants (token-store keys) the bridge connected through its own Connect page. The token store holds
 * the secrets; this file holds only ids, next to it.
 */
export interface GrantRegistry {
  list(): Promise<string[]>;
  add(grantId: string): Promise<void>;
}

export function fileGrantRegistry(path: string): GrantRegistry {
  const read = async (): Promise<Registry> => {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { grants: [] };
      throw error;
    }
    const parsed = RegistrySchema.safeParse(JSON.parse(text));
    if (!parsed.success)
      throw new Error(`${path}: not a grant registry (${parsed.error.issues[0]?.message ?? 'invalid'})`);
    return parsed.data;
  };
  return {
    async list() {
      return (await read()).grants.map((g) => g.id);
    },
    async add(grantId) {
      const registry = await read();
      if (registry.grants.some((g) => g.id === grantId)) return;
      registry.grants.push({ id: grantId, connectedAt: new Date().toISOString() });
      await mkdir(dirname(path), { recursive: true });
      // Write-then-rename: a crash never leaves a half-written registry.
      const temporary = `${path}.${process.pid}.tmp`;
      await writeFile(temporary, JSON.stringify(registry, null, 2), { mode: 0o600 });
      await rename(temporary, path);
    },
  };
}
