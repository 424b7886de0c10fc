import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** One AES-256 key with the id that marks what it encrypted (for rotation). */
export interface TokenKey {
  readonly id: string;
  readonly key: Buffer;
}

/**
 * Encrypts OAuth tokens at rest with AES-256-GCM. The first key encrypts; every key decrypts, so a new key
 * can be put first and the old ones kept until `reencryptTokens` has moved every row over. The grant id and
 * column are authenticated with each value, so a ciphertext copied onto another grant or column fails.
 */
export interface TokenCipher {
  readonly currentKeyId: string;
  /** How every value encrypted with the current key begins (a query can find the rows that do not). */
  readonly currentPrefix: string;
  encrypt(plaintext: string, context: string): string;
  decrypt(stored: string, context: string): string;
  /** The key id a stored value was encrypted with; undefined for a value stored in plain text. */
  keyIdOf(stored: string): string | undefined;
}

const PREFIX = 'enc:v1:';
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

export class TokenCipherError extends Error {
  override name = 'TokenCipherError';
}

export function createTokenCipher(keys: readonly TokenKey[]): TokenCipher {
  const current = keys[0];
  if (!current) throw new TokenCipherError('no token encryption key');
  const byId = new Map<string, Buffer>();
  for (const { id, key } of keys) {
    if (!KEY_ID.test(id)) throw new TokenCipherError(`token key id "${id}": use 1–32 of [A-Za-z0-9_-]`);
    if (key.length !== 32)
      throw new TokenCipherError(`token key "${id}": expected 32 bytes, got ${key.length}`);
    if (byId.has(id)) throw new TokenCipherError(`token key "${id}" is given twice`);
    byId.set(id, key);
  }
  return {
    currentKeyId: current.id,
    currentPrefix: `${PREFIX}${current.id}:`,
    encrypt(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current.key, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `${PREFIX}${current.id}:${iv.toString('base64url')}:${sealed.toString('base64url')}`;
    },
    decrypt(stored, context) {
      if (!stored.startsWith(PREFIX)) throw new TokenCipherError('token stored without encryption');
      const [keyId, ivText, sealedText] = stored.slice(PREFIX.length).split(':');
      const key = keyId === undefined ? undefined : byId.get(keyId);
      if (!key || ivText === undefined || sealedText === undefined)
        throw new TokenCipherError(`token encrypted with unknown key "${keyId ?? ''}"`);
      const sealed = Buffer.from(sealedText, 'base64url');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(ivText, 'base64url'));
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(sealed.subarray(sealed.length - 16));
        return Buffer.concat([
          decipher.update(sealed.subarray(0, sealed.length - 16)),
          decipher.final(),
        ]).toString('utf8');
      } catch {
        // Never the value or the key: only that it does not belong here.
        throw new TokenCipherError(`token does not decrypt for ${context} (tampered, moved or wrong key)`);
      }
    },
    keyIdOf(stored) {
      return stored.startsWith(PREFIX) ? stored.slice(PREFIX.length).split(':')[0] : undefined;
    },
  };
}

/** `TOKEN_ENCRYPTION_KEYS` syntax: `id:base64key[,id:base64key…]`, the first one current. */
export function parseTokenKeys(text: string): TokenKey[] {
  return text
    .split(/[,\n]/)
    .map((part) => part.trim())
    .filter((part) => part.length > 0 && !part.startsWith('#'))
    .map((part) => {
      const colon = part.indexOf(':');
      if (colon <= 0) throw new TokenCipherError('token keys: expected id:base64key');
      return { id: part.slice(0, colon), key: Buffer.from(part.slice(colon + 1), 'base64') };
    });
}

export function newTokenKey(id: string): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}
