// Runs an app's TypeScript entry from source: tsx for the syntax, the @voltkit/source condition so
// workspace packages resolve to src/ without a build. Signals pass through so Ctrl-C shuts down cleanly.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// Resolved from this file, not the caller's working directory, so the bins work from anywhere.
const tsxLoader = import.meta.resolve('tsx');

export function runTypeScriptEntry(entryUrl) {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@voltkit/source',
      '--import',
      tsxLoader,
      fileURLToPath(entryUrl),
      ...process.argv.slice(2),
    ],
    { stdio: 'inherit' },
  );
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
