import type { UserConfig } from 'tsdown';
import { appBuildConfig } from '../../tsdown.shared.ts';

const config: UserConfig = appBuildConfig({ index: 'src/index.ts', main: 'src/main.ts' });

export default config;
