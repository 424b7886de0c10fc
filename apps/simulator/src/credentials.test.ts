import { describe, expect, it } from 'vitest';
import { bearer, decodeBasic, safeEqual } from './credentials.ts';

describe('credentials', () => {
  it('reads bearer tokens whatever the scheme case, and nothing else', () => {
    expect(bearer('Bearer abc')).toBe('abc');
    expect(bearer('bearer  abc ')).toBe('abc');
    expect(bearer('Basic abc')).toBeUndefined();
    expect(bearer('Bearer ')).toBeUndefined();
    expect(bearer(undefined)).toBeUndefined();
  });

  it('decodes Basic credentials; the password may contain colons', () => {
    const header = `Basic ${Buffer.from('default:a:b').toString('base64')}`;
    expect(decodeBasic(header)).toEqual({ user: 'default', password: 'a:b' });
    expect(decodeBasic(`Basic ${Buffer.from('nocolon').toString('base64')}`)).toBeUndefined();
    expect(decodeBasic('Bearer x')).toBeUndefined();
  });

  it('compares secrets of any length', () => {
    expect(safeEqual('secret', 'secret')).toBe(true);
    expect(safeEqual('secret', 'secreT')).toBe(false);
    expect(safeEqual('secret', 'secret-longer')).toBe(false);
  });
});
