import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { z } from 'zod';
import { renderDashboardPage, type SmartChargingService } from './internals.ts';

export interface DashboardServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Where an owner starts linking a car: redirects to Connect. */
  readonly connectUrl: string;
  /** The OAuth redirect URI Connect sends the owner back to. */
  readonly callbackUrl: string;
  close(): Promise<void>;
}

const ConnectQuerySchema = z.object({
  owner: z.string().trim().min(1).max(80).default('Demo owner'),
  make: z
    .string()
    .regex(/^[A-Za-z -]{2,30}$/)
    .optional(),
});

/**
 * The smart-charging dashboard and Connect endpoints over `node:http`: `/` (the service's dashboard page),
 * `/api/dashboard`, `/connect` (starts an enrollment, redirects to Connect) and `/connect/callback`.
 * Stands in until `@voltkit/smart-charging` exports its own HTTP server.
 */
export async function startDashboardServer(options: {
  /** The service, once it exists: the server starts first, so its callback URL can go into the client. */
  readonly service: () => SmartChargingService;
  readonly host: string;
  readonly port: number;
  readonly logger: Logger;
  /** Runs after a callback linked vehicles (the bridge picks them up, the service re-plans). */
  readonly onLinked?: (vehicleIds: readonly string[]) => Promise<void>;
}): Promise<DashboardServer> {
  const { logger } = options;

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const service = options.service();
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (request.method !== 'GET') return send(response, 405, 'text/plain', 'method not allowed');
    switch (url.pathname) {
      case '/':
        return send(response, 200, 'text/html; charset=utf-8', renderDashboardPage('Voltkit smart charging'));
      case '/api/dashboard':
        return send(response, 200, 'application/json', JSON.stringify(await service.dashboard()));
      case '/connect': {
        const query = ConnectQuerySchema.safeParse(Object.fromEntries(url.searchParams));
        if (!query.success) return send(response, 400, 'text/plain', 'invalid owner or make');
        const { connectUrl } = await service.enrollment.start({
          ownerName: query.data.owner,
          ...(query.data.make === undefined ? {} : { makeBypass: query.data.make.toUpperCase() }),
        });
        response.writeHead(302, { location: connectUrl }).end();
        return;
      }
      case '/connect/callback': {
        let linked: readonly string[];
        try {
          linked = (await service.enrollment.complete(url)).vehicles.map((vehicle) => `${vehicle.make} ${vehicle.model}`);
        } catch (error) {
          logger.warn({ err: error }, 'Connect callback refused');
          return send(response, 400, 'text/html; charset=utf-8', page('Not linked', 'This Connect answer could not be used. Start again from /connect.'));
        }
        const ids = (await service.dashboard()).vehicles.map((vehicle) => vehicle.id);
        await options.onLinked?.(ids);
        return send(
          response,
          200,
          'text/html; charset=utf-8',
          page('Linked', `Linked: ${linked.map(escapeHtml).join(', ')}. <a href="/">Back to the dashboard</a>`),
        );
      }
      default:
        return send(response, 404, 'text/plain', 'not found');
    }
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      logger.error({ err: error, path: request.url?.split('?')[0] }, 'dashboard request failed');
      if (!response.headersSent) send(response, 500, 'text/plain', 'internal error');
      else response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host}:${port}`;
  return {
    url,
    connectUrl: `${url}/connect`,
    callbackUrl: `${url}/connect/callback`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1><p>${body}</p></body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
