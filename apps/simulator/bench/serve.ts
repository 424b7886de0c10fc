// Child process of the benchmark: serves either the simulator (`sim`) or a bare node:http peer (`bare`)
// on its own core, and reports where to send requests as one JSON line on stdout.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSimulator } from '../src/index.ts';
import { connectedToken } from '../test/helpers.ts';

const kind = process.argv[2];

if (kind === 'sim') {
  const sim = await createSimulator({ clock: { mode: 'real' } });
  const { token, vehicleIds } = await connectedToken(sim, {
    scope: 'read_battery',
    email: 'bench@example.com',
    make: 'TESLA',
  });
  process.stdout.write(
    `${JSON.stringify({ url: sim.url, path: `/v2.0/vehicles/${vehicleIds[0] ?? ''}/battery`, token })}\n`,
  );
} else if (kind === 'bare') {
  // The physical limit of the same exchange: the same request (path and bearer token, checked), the same
  // response bytes (status line, headers, content-length framing, a body as long), nothing else.
  const body = process.argv[3] ?? '{}';
  const path = process.argv[4] ?? '/battery';
  const token = process.argv[5] ?? 'x';
  const expectedAuthorization = `Bearer ${token}`;
  const contentLength = String(Buffer.byteLength(body));
  const server = createServer((request, response) => {
    if (request.url !== path || request.headers.authorization !== expectedAuthorization) {
      response.writeHead(401, { 'content-type': 'application/json; charset=utf-8' });
      response.end('{}');
      return;
    }
    const now = new Date().toISOString();
    response.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'sc-request-id': crypto.randomUUID(),
      'sc-data-age': now,
      'sc-fetched-at': now,
      'sc-unit-system': 'metric',
      'content-length': contentLength,
    });
    response.end(body);
  });
  server.keepAliveTimeout = 72_000;
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}`, path, token })}\n`);
  });
} else {
  throw new Error('usage: serve.ts sim | bare <body> <path> <token>');
}

// Exit on SIGTERM through process.exit, so that `node --cpu-prof` writes its profile.
process.on('SIGTERM', () => process.exit(0));
