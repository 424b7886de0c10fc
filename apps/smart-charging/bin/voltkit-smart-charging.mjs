#!/usr/bin/env node
// The built service and its operator commands (`pnpm --filter @voltkit/smart-charging build`).
import '../dist/main.mjs';
