import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSimulator } from '@voltkit/simulator';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../src/service/config.ts';
import { startSmartCharging } from '../src/service/start-app.ts';
import { api } from './harness.ts';

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
    const enrollment = await api<{ grantId: string; connectUrl: string }>(
      first.base,
      'POST',
      'api/enrollments',
      {
        ownerName: 'Ada',
      },
    );
    expect(enrollment.status).toBe(201);
    const link = new URL(enrollment.body.connectUrl);
    expect(link.searchParams.get('client_id')).toBe('voltkit-demo-client');
    expect(link.searchParams.get('redirect_uri')).toBe(
      `${first.base.replace('127.0.0.1', 'localhost')}connect/callback`,
    );
    // The embedded simulator answers Connect.
    expect((await fetch(link)).status).toBe(200);
    expect((await api<{ slots: unknown[] }>(first.base, 'GET', 'api/prices')).body.slots).toEqual([]);
    expect(first.output()).not.toContain('voltkit-demo-secret');
    expect(await stop(first.child, 'SIGTERM')).toBe(0);

    // Same data directory, new process: the pending enrollment is still there.
    const second = await startMain(env);
    const grants = await api<{ id: string; status: string }[]>(second.base, 'GET', 'api/grants');
    expect(grants.body).toEqual([
      expect.objectContaining({ id: enrollment.body.grantId, status: 'pending' }),
    ]);
    expect(await stop(second.child, 'SIGINT')).toBe(0);
  }, 150_000);

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
      const dashboard = await api<{ generatedAt: string }>(base, 'GET', 'api/dashboard');
      // The service runs on the simulator's clock.
      expect(dashboard.body.generatedAt).toBe('2026-11-21T21:00:00.000Z');
      const link = await api<{ connectUrl: string }>(base, 'POST', 'api/enrollments', { ownerName: 'Ada' });
      expect(link.body.connectUrl.startsWith(`${sim.url}/oauth/authorize`)).toBe(true);
      await running.close();
      expect((await fetch(`${sim.url}/_simulator/health`)).status).toBe(200);
    } finally {
      await sim.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
