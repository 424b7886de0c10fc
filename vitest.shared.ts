import { defineProject, type UserWorkspaceConfig } from 'vitest/config';

// Tests resolve workspace packages to their TypeScript source, so nothing needs building first.
export const sharedTestConfig: UserWorkspaceConfig = {
  resolve: { conditions: ['@voltkit/source', 'module', 'node', 'default'] },
  ssr: { resolve: { conditions: ['@voltkit/source', 'module', 'node', 'default'] } },
  test: {
    restoreMocks: true,
    clearMocks: true,
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
};

export { defineProject };
