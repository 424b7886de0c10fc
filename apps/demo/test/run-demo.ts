import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// The built demo under plain node, as `npm run demo` runs it (turbo builds before testing).
const MAIN = fileURLToPath(new URL('../dist/main.mjs', import.meta.url));

export interface DemoProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (a signal death counts as null). */
  readonly exited: Promise<number | null>;
  /** Waits (bounded) until stdout contains `text`. */
  waitForOutput(text: string, timeoutMs: number): Promise<void>;
}

/** The command behind `npm run demo` (the package's `start` script), in a child process. */
export function runDemo(args: readonly string[], env: Record<string, string>): DemoProcess {
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...embeddedEnv(), LOG_LEVEL: 'error', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async waitForOutput(text, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!out.includes(text)) {
        if (child.exitCode !== null)
          throw new Error(`the demo exited (${child.exitCode}) before printing "${text}":\n${out}\n${err}`);
        if (Date.now() > deadline) throw new Error(`no "${text}" after ${timeoutMs} ms:\n${out}\n${err}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
}

/**
 * The environment without anything that would point the demo at real infrastructure (CI passes DATABASE_URL
 * through for the PostgreSQL tests; a developer may have Smartcar or broker variables set).
 */
function embeddedEnv(): Record<string, string | undefined> {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (
      /^(DATABASE_URL|PG[A-Z]*|SMARTCAR_.*|VEHICLE_API_ORIGIN|CONNECT_MODE|PRICE_.*|ENTSOE_TOKEN|GRID_LIMIT_KW|HOST|PORT|DATA_DIR|VOLTKIT_.*|CLOCK_SPEED)$/.test(
        name,
      )
    ) {
      delete env[name];
    }
  }
  return env;
}
