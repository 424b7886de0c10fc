import { describe, expect, it } from 'vitest';
import * as root from '@voltkit/core';
import * as client from '@voltkit/core/client';
import * as permissions from '@voltkit/core/permissions';
import * as types from '@voltkit/core/types';
import * as v3 from '@voltkit/core/v3';

describe('entry points', () => {
  it('the root exports every value of every subpath, as the same object', () => {
    for (const entry of [client, permissions, types, v3]) {
      for (const [name, value] of Object.entries(entry)) {
        expect(root, name).toHaveProperty(name);
        expect((root as Record<string, unknown>)[name], name).toBe(value);
      }
    }
  });
});
