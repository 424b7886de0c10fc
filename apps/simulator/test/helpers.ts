import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import smartcar from 'smartcar';

/** Points the unmodified SDK at a simulator (it reads these variables at each call / construction). */
export function pointSdkAt(url: string): void {
  process.env['SMARTCAR_API_ORIGIN'] = url;
  process.env['SMARTCAR_AUTH_ORIGIN'] = url;
  process.env['SMARTCAR_MANAGEMENT_API_ORIGIN'] = url;
}

function attribute(html: string, pattern: RegExp): string {
  const match = pattern.exec(html);
  if (match?.[1] === undefined) throw new Error(`page does not match ${pattern}`);
  return match[1];
}

async function getText(url: string): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { redirect: 'manual' });
  return { status: response.status, text: await response.text() };
}

async function postForm(url: string, form: [string, string][]): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
}

/**
 * Walks the Connect pages over plain HTTP, the way a browser would submit their forms:
 * preamble → brand → sign-in → approve (or deny). Returns the final redirect URL.
 */
export async function connectOverHttp(
  authUrl: string,
  input: { brand: string; email: string; password?: string; deny?: boolean },
): Promise<URL> {
  const origin = new URL(authUrl).origin;
  const preamble = await getText(authUrl);
  if (preamble.status !== 200) throw new Error(`authorize answered ${preamble.status}: ${preamble.text}`);
  const next = attribute(preamble.text, /<form method="get" action="([^"]+)"><button id="continue-button"/);
  let loginUrl = new URL(next, origin).toString();
  // `make` / `single_select_vin` skip the brand picker.
  if (next.endsWith('/brands')) {
    const brands = await getText(loginUrl);
    const brandAction = attribute(brands.text, /<form method="post" action="([^"]+)">/);
    const afterBrand = await postForm(new URL(brandAction, origin).toString(), [['brand', input.brand]]);
    loginUrl = new URL(afterBrand.headers.get('location') ?? '', origin).toString();
  }
  const login = await getText(loginUrl);
  const loginAction = attribute(login.text, /<form method="post" action="([^"]+)">/);
  const afterLogin = await postForm(new URL(loginAction, origin).toString(), [
    ['username', input.email],
    ['password', input.password ?? 'any-password'],
  ]);
  if (afterLogin.status === 401) throw new Error('sign-in refused');
  const afterLoginLocation = afterLogin.headers.get('location') ?? '';
  if (!afterLoginLocation.startsWith('/connect/')) return new URL(afterLoginLocation);
  const approve = await getText(new URL(afterLoginLocation, origin).toString());
  if (approve.status === 303) throw new Error('approve page redirected');
  const approveAction = attribute(approve.text, /<form method="post" action="([^"]+)">/);
  const vehicles = [...approve.text.matchAll(/name="vehicle" value="([^"]+)" ?checked/g)].map(
    (m) => m[1] ?? '',
  );
  const form: [string, string][] = [['action', input.deny === true ? 'deny' : 'approve']];
  for (const id of vehicles) form.push(['vehicle', id]);
  const final = await postForm(new URL(approveAction, origin).toString(), form);
  return new URL(final.headers.get('location') ?? '');
}

export interface WebhookReceiver {
  readonly url: string;
  readonly deliveries: { body: unknown; raw: string; signature: string | undefined }[];
  close(): Promise<void>;
}

/** A real HTTP webhook endpoint that answers the verification challenge with the app's AMT. */
export async function startWebhookReceiver(amt: string): Promise<WebhookReceiver> {
  const deliveries: WebhookReceiver['deliveries'] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const body = JSON.parse(raw) as { eventName?: string; payload?: { challenge?: string } };
      const signature = request.headers['sc-signature'];
      if (body.eventName === 'verify') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({ challenge: smartcar.hashChallenge(amt, body.payload?.challenge ?? '') }),
        );
        return;
      }
      deliveries.push({ body, raw, signature: Array.isArray(signature) ? signature[0] : signature });
      response.writeHead(204);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks`,
    deliveries,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Runs `fn`, expecting it to reject with the SDK's typed error; returns that error. */
export async function sdkError(
  fn: () => Promise<unknown>,
): Promise<InstanceType<typeof smartcar.SmartcarError>> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof smartcar.SmartcarError) return error;
    throw error;
  }
  throw new Error('expected a SmartcarError, but the call succeeded');
}
