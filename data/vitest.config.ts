import { defineProject, sharedTestConfig } from '../vitest.shared.ts';

export default defineProject(sharedTestConfig);
