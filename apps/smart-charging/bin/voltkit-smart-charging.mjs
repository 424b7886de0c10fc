#!/usr/bin/env node
import { runTypeScriptEntry } from '../../../scripts/run-ts-entry.mjs';

runTypeScriptEntry(new URL('../src/main.ts', import.meta.url));
