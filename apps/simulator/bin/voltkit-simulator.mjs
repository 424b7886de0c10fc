#!/usr/bin/env node
// The built simulator (`pnpm --filter @voltkit/simulator build`); `pnpm dev` runs the TypeScript source.
import '../dist/main.mjs';
