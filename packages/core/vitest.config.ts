import type { UserWorkspaceConfig } from 'vitest/config';
import { defineProject, sharedTestConfig } from '../../vitest.shared.ts';

const config: UserWorkspaceConfig = defineProject({
  ...sharedTestConfig,
  test: { ...sharedTestConfig.test, typecheck: { enabled: true, include: ['src/**/*.test-d.ts'] } },
});

export default config;
