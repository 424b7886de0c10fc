#!/usr/bin/env node
// The built bridge (`pnpm --filter @voltkit/mqtt-bridge build`); `pnpm dev` runs the TypeScript source.
import '../dist/main.mjs';
