import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { Aedes } from 'aedes';

export interface EmbeddedBroker {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /**
   * Takes the broker down for `downMs` and brings it back on the same port. `keepState: true` keeps
   * sessions and retained messages (like Mosquitto with persistence); `false` starts empty (no persistence).
   */
  restart(options: { keepState: boolean; downMs?: number }): Promise<void>;
  /** Number of connected clients (useful in tests). */
  connectedClients(): number;
  /** Cuts one client's connection without a DISCONNECT, as a network failure would (its last will fires). */
  dropClient(clientId: string): boolean;
  close(): Promise<void>;
}

interface Running {
  aedes: Aedes;
  server: Server;
  sockets: Set<Socket>;
}

async function listen(
  aedes: Aedes,
  host: string,
  port: number,
): Promise<{ server: Server; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, sockets };
}

function closeServer(running: Running): Promise<void> {
  return new Promise((resolve) => {
    running.server.close(() => resolve());
    // Dropping sockets is what a crashing broker does to its clients: they see a closed connection.
    for (const socket of running.sockets) socket.destroy();
  });
}

function closeAedes(aedes: Aedes): Promise<void> {
  return new Promise((resolve) => aedes.close(() => resolve()));
}

/**
 * Starts an in-process MQTT 3.1.1 broker (aedes) so the bridge runs out of the box with no broker
 * configured. aedes does not speak MQTT 5; the bridge connects to it with 3.1.1.
 */
export async function startEmbeddedBroker(
  options: { host?: string; port?: number } = {},
): Promise<EmbeddedBroker> {
  const host = options.host ?? '127.0.0.1';
  let aedes = await Aedes.createBroker();
  const first = await listen(aedes, host, options.port ?? 0);
  const port = (first.server.address() as AddressInfo).port;
  let running: Running | undefined = { aedes, ...first };

  return {
    url: `mqtt://${host}:${port}`,
    host,
    port,
    connectedClients: () => (running ? running.aedes.connectedClients : 0),
    dropClient(clientId) {
      const clients = (
        running?.aedes as { clients?: Record<string, { conn: { destroy(): void } } | undefined> } | undefined
      )?.clients;
      const client = clients?.[clientId];
      if (!client) return false;
      client.conn.destroy();
      return true;
    },
    async restart({ keepState, downMs = 200 }) {
      if (!running) throw new Error('embedded broker is closed');
      const previous = running;
      running = undefined;
      await closeServer(previous);
      if (!keepState) {
        await closeAedes(previous.aedes);
        aedes = await Aedes.createBroker();
      }
      await new Promise((resolve) => setTimeout(resolve, downMs));
      running = { aedes, ...(await listen(aedes, host, port)) };
    },
    async close() {
      if (!running) return;
      const current = running;
      running = undefined;
      await closeServer(current);
      await closeAedes(current.aedes);
    },
  };
}
