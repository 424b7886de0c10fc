import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '@voltkit/simulator';

/** Errors raised before any route runs answer with the documented body of their surface, too. */

let sim: Simulator;
beforeAll(async () => {
  sim = await createSimulator({ clock: { mode: 'manual' } });
});
afterAll(async () => {
  await sim.close();
});

/** Writes raw bytes to the simulator's socket and reads the whole answer (the server closes). */
function raw(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(sim.url).port), '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.write(request);
  });
}

function parseRaw(answer: string): { status: number; headers: string; body: Record<string, unknown> } {
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  return {
    status: Number(head.split(' ')[1]),
    headers: head.toLowerCase(),
    body: JSON.parse(body) as Record<string, unknown>,
  };
}

async function get(path: string) {
  const response = await fetch(`${sim.url}${path}`, { redirect: 'manual' });
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    text: await response.text(),
  };
}

const apiBody = (status: number) => ({
  type: 'VALIDATION',
  code: null,
  statusCode: status,
  docURL: 'https://smartcar.com/docs/errors/api-errors/validation-errors#null',
  resolution: { type: null },
});

describe('router- and parser-level errors', () => {
  it('bad percent-encoding: 400 with the Smartcar body, without echoing the path', async () => {
    for (const path of ['/v2.0/vehicles/%E0%A4%A/battery', '/v2.0/vehicles/%zz', '/_simulator/vehicles/%']) {
      const answer = await get(path);
      expect(answer.status).toBe(400);
      expect(answer.type).toContain('application/json');
      expect(JSON.parse(answer.text)).toMatchObject(apiBody(400));
      expect(answer.text).not.toContain('%zz');
    }
  });

  it('an over-long path parameter: 414 with the Smartcar body', async () => {
    const answer = await get(`/v2.0/vehicles/${'a'.repeat(600)}/battery`);
    expect(answer.status).toBe(414);
    expect(JSON.parse(answer.text)).toMatchObject(apiBody(414));
  });

  it('headers too large: 431 with the Smartcar body and a request id, written by hand before any route', async () => {
    const answer = parseRaw(
      await raw(`GET /v2.0/vehicles HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`),
    );
    expect(answer.status).toBe(431);
    expect(answer.headers).toContain('content-type: application/json');
    expect(answer.body).toMatchObject(apiBody(431));
    expect(answer.headers).toContain(`sc-request-id: ${String(answer.body['requestId'])}`);
  });

  it('a request that is not HTTP: 400 with the Smartcar body', async () => {
    for (const request of [
      'GARBAGE\r\n\r\n',
      'GET /v2.0/vehicles HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n',
    ]) {
      const answer = parseRaw(await raw(request));
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject(apiBody(400));
    }
  });

  it('unknown routes and methods: 404 RESOURCE_NOT_FOUND', async () => {
    for (const path of ['/nothing', '/v2.0/nothing', '/oauth/nothing']) {
      const answer = await get(path);
      expect(answer.status).toBe(404);
      expect(JSON.parse(answer.text)).toMatchObject({ type: 'RESOURCE_NOT_FOUND', statusCode: 404 });
    }
  });

  it('the token endpoint keeps OAuth bodies and Connect keeps HTML pages for the same failures', async () => {
    const token = await fetch(`${sim.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{',
    });
    expect(token.status).toBe(400);
    expect(await token.json()).toEqual({
      error: 'invalid_request',
      error_description: 'The request body is not valid JSON.',
    });
    const big = await fetch(`${sim.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `code=${'a'.repeat(70_000)}`,
    });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: string }).error).toBe('invalid_request');
    const connect = await get('/connect/%E0%A4%A/login');
    expect(connect.status).toBe(400);
    expect(connect.type).toContain('text/html');
    expect(connect.text).toContain('<p class="error">');
  });
});
