import { createServer } from 'node:net';

/** Whether `port` can be bound on `host` right now (0 always can). */
export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE' || error.code === 'EACCES') resolve(false);
      else reject(error);
    });
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

/** A port the OS considers free now. */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no free port')),
      );
    });
  });
}

/**
 * The wanted port, or a free one when something else (a local Mosquitto on 1883, another app on 8080)
 * already listens there; `note` says so, for the printed summary.
 */
export async function portOrFree(
  host: string,
  wanted: number,
  what: string,
): Promise<{ port: number; note?: string }> {
  if (wanted === 0) return { port: await freePort(host) };
  if (await isPortFree(host, wanted)) return { port: wanted };
  const port = await freePort(host);
  return { port, note: `${what}: port ${wanted} is taken, using ${port}` };
}
