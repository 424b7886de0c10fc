import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSimulator } from '@voltkit/simulator';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../src/service/config.ts';
import { createOperatorToken } from '../src/service/auth/identity.ts';
import { startSmartCharging } from '../src/service/start-app.ts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { openSqlClient } from '../src/store/sql-client.ts';
import { TEST_DATABASE_URL } from '../src/store/test-backends.ts';
import { api, TestBrowser } from './harness.ts';

/** The operator command as a process (same environment as the service). */
async function operatorCommand(args: string[], env: Record<string, string>) {
  return promisify(execFile)(
    process.execPath,
    ['--conditions=@voltkit/source', '--import', 'tsx', 'src/main.ts', ...args],
    { cwd: PACKAGE_DIR, env: { PATH: process.env['PATH'] ?? '', ...env } },
  );
}

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

interface Started {
  readonly child: ChildProcess;
  readonly base: string;
  output(): string;
}

/**
 * `pnpm start` as an operator runs it: the built service under plain node (turbo builds before testing), a
 * child process configured only through its environment.
 */
async function startMain(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, ['dist/main.mjs'], {
    cwd: PACKAGE_DIR,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`main did not start:\n${output}`)), 60_000);
    const check = () => {
      const match = /Voltkit smart charging: (http:\/\/localhost:\d+\/)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!.replace('localhost', '127.0.0.1'));
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`main exited with ${code}:\n${output}`));
    });
  });
  return { child, base, output: () => output };
}

function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('main did not stop within 20 s')), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill(signal);
  });
}

/** Runs the service and waits for it to exit (it must, for a refused configuration). */
function operatorCommandExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@voltkit/source', '--import', 'tsx', 'src/main.ts'],
      {
        cwd: PACKAGE_DIR,
        env: { PATH: process.env['PATH'] ?? '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`main did not exit:\n${output}`));
    }, 50_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('main.ts as a process', () => {
  let dataDir: string | undefined;
  afterAll(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('starts on defaults with the embedded simulator, survives a missing price file, stops on a signal and keeps its data', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'voltkit-main-'));
    const env = {
      DATA_DIR: dataDir,
      PORT: '0',
      PRICE_SOURCE: 'file:no-such-prices.csv',
      DATABASE_URL: '',
      SMARTCAR_CLIENT_ID: '',
    };
    const first = await startMain(env);
    expect(first.output()).toContain('price file not found');
    expect(first.output()).toContain('Connect a car');
    // The embedded default made its token key file, readable by this user only.
    expect((await stat(join(dataDir, 'token-encryption.key'))).mode & 0o777).toBe(0o600);
    const enrollment = await api<{ connectUrl: string }>(
      { base: first.base, browser: new TestBrowser() },
      'POST',
      'api/enrollments',
      { ownerName: 'Ada' },
    );
    expect(enrollment.status).toBe(201);
    const link = new URL(enrollment.body.connectUrl);
    expect(link.searchParams.get('client_id')).toBe('voltkit-demo-client');
    expect(link.searchParams.get('redirect_uri')).toBe(
      `${first.base.replace('127.0.0.1', 'localhost')}connect/callback`,
    );
    // The embedded simulator answers Connect.
    expect((await fetch(link)).status).toBe(200);
    expect((await api(first.base, 'GET', 'api/prices')).status).toBe(401);
    // The built front end is served from dist/: both pages and the scripts they load.
    for (const [page, script] of [
      ['', 'assets/console.js'],
      ['owner', 'assets/owner.js'],
    ] as const) {
      const html = await (await fetch(new URL(page, first.base))).text();
      expect(html).toContain(`<script type="module" src="${script}"></script>`);
      const js = await fetch(new URL(script, first.base));
      expect(js.status).toBe(200);
      expect(js.headers.get('content-type')).toMatch(/javascript/);
    }
    expect(first.output()).not.toContain('voltkit-demo-secret');
    expect(await stop(first.child, 'SIGTERM')).toBe(0);

    // An operator token made with the CLI on the same data directory works in the next process.
    const created = await operatorCommand(['token', 'create', '--role', 'read', '--name', 'ops'], env);
    const token = /\n {2}(vkt_[A-Za-z0-9_-]+)\n/.exec(created.stdout)?.[1];
    expect(token, created.stdout).toBeDefined();
    expect(created.stdout).toMatch(/login#code=vkl_/);
    const second = await startMain(env);
    const base = second.base;
    expect(
      (await api<{ slots: unknown[] }>({ base, token: token! }, 'GET', 'api/prices')).body.slots,
    ).toEqual([]);
    expect(
      (await api({ base, token: token! }, 'PUT', 'api/grid', { limitKw: 5, baseLoadKwhPerYear: 1 })).status,
    ).toBe(403);
    expect(await stop(second.child, 'SIGINT')).toBe(0);
    const listed = await operatorCommand(['token', 'list'], env);
    const id = listed.stdout.split(' ')[0]!;
    expect((await operatorCommand(['token', 'revoke', id], env)).stdout).toContain('revoked');
  }, 150_000);

  it('refuses to listen beyond loopback while no operator can sign in, with a clear error and exit 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'voltkit-open-'));
    try {
      const failed = await operatorCommandExit({
        DATA_DIR: dir,
        PORT: '0',
        HOST: '0.0.0.0',
        DATABASE_URL: '',
        SMARTCAR_CLIENT_ID: '',
      });
      expect(failed.code).toBe(1);
      expect(failed.output).toContain('refusing to listen on 0.0.0.0');
      expect(failed.output).toContain('token create');
      expect(failed.output).not.toMatch(/\n\s+at /); // no stack trace for a configuration mistake
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('can be started in-process on a simulator the caller runs (as the demo does), and leaves it running', async () => {
    const sim = await createSimulator({ clock: { mode: 'manual', start: new Date('2026-11-21T21:00:00Z') } });
    const dir = await mkdtemp(join(tmpdir(), 'voltkit-embed-'));
    try {
      const running = await startSmartCharging(loadServiceConfig({ PORT: '0', DATA_DIR: dir }), {
        logger: pino({ level: 'silent' }),
        simulator: sim,
        schedule: false,
      });
      expect(running.simulator).toBe(sim);
      const base = running.url.replace('localhost', '127.0.0.1');
      const { token } = await createOperatorToken(running.db, { name: 'embedder', role: 'read' });
      const dashboard = await api<{ generatedAt: string }>({ base, token }, 'GET', 'api/dashboard');
      // The service runs on the simulator's clock.
      expect(dashboard.body.generatedAt).toBe('2026-11-21T21:00:00.000Z');
      const link = await api<{ connectUrl: string }>(
        { base, browser: new TestBrowser() },
        'POST',
        'api/enrollments',
        { ownerName: 'Ada' },
      );
      expect(link.body.connectUrl.startsWith(`${sim.url}/oauth/authorize`)).toBe(true);
      await running.close();
      expect((await fetch(`${sim.url}/_simulator/health`)).status).toBe(200);
    } finally {
      await sim.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
  it('on PostgreSQL answers the HTTP API from a pool of its own while the jobs hold every connection of theirs', async () => {
    const schema = `voltkit_pools_${randomBytes(6).toString('hex')}`;
    const databaseUrl = new URL(TEST_DATABASE_URL);
    databaseUrl.searchParams.set('options', `-c search_path=${schema}`);
    const admin = await openSqlClient({ databaseUrl: TEST_DATABASE_URL, schema });
    const sim = await createSimulator({ clock: { mode: 'manual', start: new Date('2026-11-21T21:00:00Z') } });
    const dir = await mkdtemp(join(tmpdir(), 'voltkit-pools-'));
    let release = () => {};
    try {
      const running = await startSmartCharging(
        loadServiceConfig({
          PORT: '0',
          DATA_DIR: dir,
          DATABASE_URL: databaseUrl.toString(),
          DATABASE_POOL_SIZE: '2',
          API_DATABASE_POOL_SIZE: '2',
        }),
        { logger: pino({ level: 'silent' }), simulator: sim, schedule: false },
      );
      const base = running.url.replace('localhost', '127.0.0.1');
      const { token } = await createOperatorToken(running.db, { name: 'pools', role: 'read' });
      // A re-plan's burst in miniature: both of the jobs' connections busy until the request is answered.
      const held = new Promise<void>((resolve) => (release = resolve));
      let holding = 0;
      const holds = [1, 2].map(() =>
        running.service.db.transaction(async (tx) => {
          await tx.query('select 1');
          holding++;
          await held;
        }),
      );
      while (holding < 2) await new Promise((resolve) => setTimeout(resolve, 10));
      const answer = await Promise.race([
        api<{ data: unknown[] }>({ base, token }, 'GET', 'api/vehicles'),
        new Promise<'waited'>((resolve) => setTimeout(() => resolve('waited'), 10_000)),
      ]);
      expect(answer === 'waited' ? 'the request waited for a job connection' : answer.status).toBe(200);
      release();
      await Promise.all(holds);
      await running.close();
    } finally {
      release();
      await sim.close();
      await admin.query(`drop schema if exists ${schema}_jobs cascade`);
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
