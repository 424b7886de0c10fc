#!/usr/bin/env node
// The built planner CLI (`pnpm --filter @voltkit/smart-charging build`).
import '../dist/cli.mjs';
