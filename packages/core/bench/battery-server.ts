// A minimal keep-alive HTTP server answering `GET /v2.0/vehicles/{id}/battery` like the v2.0 API.
// Runs in its own process so that it does not share an event loop with the clients being measured.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const body = JSON.stringify({ percentRemaining: 0.3, range: 40.5 });
let requestCounter = 0;
let lastHeaders = '';
const server = createServer((req, res) => {
  // The bench checks that every contender sends the same request: the headers of the last battery read.
  if (req.url === '/_headers/reset' || req.url === '/_headers') {
    if (req.url === '/_headers/reset') lastHeaders = '';
    res.end(lastHeaders);
    return;
  }
  requestCounter++;
  if (lastHeaders === '') lastHeaders = JSON.stringify(req.rawHeaders);
  req.resume();
  req.on('end', () => {
    if (req.url?.includes('/battery') !== true || req.headers.authorization !== 'Bearer bench-token') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"type":"RESOURCE_NOT_FOUND","code":"PATH","description":"Not found","statusCode":404}');
      return;
    }
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'sc-request-id': `00000000-0000-4000-8000-${String(requestCounter).padStart(12, '0')}`,
      'sc-data-age': '2018-05-04T07:20:50.844Z',
      'sc-fetched-at': '2018-05-04T07:25:00.000Z',
      'sc-unit-system': req.headers['sc-unit-system'] === 'imperial' ? 'imperial' : 'metric',
    });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
process.on('disconnect', () => process.exit(0));
