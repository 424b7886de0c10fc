#!/usr/bin/env node
import { runTypeScriptEntry } from '../../../scripts/run-ts-entry.mjs';

runTypeScriptEntry(new URL('../src/planner/cli.ts', import.meta.url));
