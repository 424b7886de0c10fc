import type { UserConfig } from 'tsdown';
import { appBuildConfig } from '../../tsdown.shared.ts';

const config: UserConfig = appBuildConfig({
  index: 'src/index.ts',
  planner: 'src/planner/index.ts',
  main: 'src/main.ts',
  cli: 'src/planner/cli.ts',
});

export default config;
