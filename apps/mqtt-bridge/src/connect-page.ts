import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { VoltkitClient } from '@voltkit/core/client';
import type { GrantRegistry } from './grant-registry.ts';
import type { Logger } from './logger.ts';

export const CONNECT_SCOPES = {
  required: ['read_vehicle_info', 'read_battery', 'read_charge'],
  optional: [
    'read_vin',
    'control_charge',
    'read_location',
    'read_odometer',
    'read_security',
    'control_security',
    'read_tires',
    'read_fuel',
    'read_engine_oil',
  ],
} as const;

export interface ConnectPage {
  readonly url: string;
  close(): Promise<void>;
}

const escapeHtml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

const page = (title: string, body: string): string =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
  `<body style="font-family:sans-serif;max-width:40rem;margin:3rem auto"><h1>${escapeHtml(title)}</h1>${body}</body></html>`;

/**
 * The bridge's own small Connect page on 127.0.0.1: a link to Smartcar Connect and the callback that
 * exchanges the code, stores the tokens and tells the bridge to pick up the new cars.
 */
export async function startConnectPage(options: {
  readonly client: VoltkitClient;
  readonly registry: GrantRegistry;
  readonly port: number;
  readonly mode: 'live' | 'simulated' | 'test';
  readonly onConnected: () => Promise<void>;
  /** Webhook deliveries (POST /webhooks): raw body and SC-Signature in, reply out. */
  readonly onWebhook?: (rawBody: Buffer, signature: string | undefined) => { status: number; body: unknown };
  readonly logger: Logger;
}): Promise<ConnectPage> {
  const states = new Map<string, number>(); // CSRF state → issued at
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const send = (status: number, html: string): void => {
      response.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
      response.end(html);
    };
    if (request.method === 'POST' && url.pathname === '/webhooks' && options.onWebhook) {
      const onWebhook = options.onWebhook;
      const chunks: Buffer[] = [];
      let size = 0;
      request.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > 1_048_576) request.destroy();
        else chunks.push(chunk);
      });
      request.on('end', () => {
        const header = request.headers['sc-signature'];
        const reply = onWebhook(Buffer.concat(chunks), Array.isArray(header) ? header[0] : header);
        response.writeHead(reply.status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(reply.body));
      });
      return;
    }
    if (request.method !== 'GET') return send(405, page('Method not allowed', ''));
    if (url.pathname === '/') {
      const state = randomBytes(16).toString('hex');
      states.set(state, Date.now());
      const authUrl = options.client.getAuthUrl({
        scope: { required: [...CONNECT_SCOPES.required], optional: [...CONNECT_SCOPES.optional] },
        state,
        mode: options.mode,
      });
      void options.registry.list().then(
        (grants) =>
          send(
            200,
            page(
              'Voltkit MQTT bridge',
              `<p><a id="connect" href="${escapeHtml(authUrl)}">Connect a vehicle</a></p><p>${grants.length} account(s) connected.</p>`,
            ),
          ),
        () => send(500, page('Error', '<p>Cannot read the grant registry.</p>')),
      );
      return;
    }
    if (url.pathname === '/callback') {
      void (async () => {
        try {
          const callback = options.client.parseCallback(url);
          const issued = callback.state === undefined ? undefined : states.get(callback.state);
          if (issued === undefined || Date.now() - issued > 15 * 60_000)
            return send(400, page('Expired', '<p>Start again from the bridge page.</p>'));
          states.delete(callback.state!);
          const grantId = randomUUID();
          await options.client.exchangeCode(callback.code, { grantId });
          await options.registry.add(grantId);
          await options.onConnected();
          send(200, page('Connected', '<p>Your vehicles will appear in Home Assistant in a moment.</p>'));
        } catch (error) {
          options.logger.warn({ err: { message: (error as Error).message } }, 'connect callback failed');
          send(400, page('Not connected', `<p>${escapeHtml((error as Error).message)}</p>`));
        }
      })();
      return;
    }
    send(404, page('Not found', ''));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * The bridge's page when it runs beside the smart-charging service: cars are linked once, in the service
 * (its Connect flow), and appear in the bridge from the service's list. The page sends owners there.
 */
export async function startServiceLinkPage(options: {
  readonly port: number;
  readonly serviceUrl: string;
}): Promise<ConnectPage> {
  const target = new URL(options.serviceUrl).toString();
  const server: Server = createServer((request, response) => {
    if (request.method !== 'GET') {
      response.writeHead(405, { 'content-type': 'text/html; charset=utf-8' });
      response.end(page('Method not allowed', ''));
      return;
    }
    response.writeHead(303, { location: target, 'content-type': 'text/html; charset=utf-8' });
    response.end(
      page(
        'Voltkit MQTT bridge',
        `<p>Cars are linked in the smart-charging service, once for both: <a href="${escapeHtml(target)}">${escapeHtml(target)}</a></p>`,
      ),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
