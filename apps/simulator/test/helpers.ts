import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import smartcar from 'smartcar';
import type { Simulator } from '@voltkit/simulator';

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

/** What a browser would submit from a page's first form: hidden fields and ticked, enabled boxes. */
export function formFields(html: string): [string, string][] {
  const form = /<form[^>]*>([\s\S]*?)<\/form>/.exec(html)?.[1] ?? '';
  const fields: [string, string][] = [];
  for (const [tag] of form.matchAll(/<input\b[^>]*>/g)) {
    const name = /\bname="([^"]*)"/.exec(tag)?.[1];
    const value = /\bvalue="([^"]*)"/.exec(tag)?.[1] ?? 'on';
    const type = /\btype="([^"]*)"/.exec(tag)?.[1] ?? 'text';
    if (name === undefined || / disabled\b/.test(tag)) continue;
    if (type === 'hidden' || ((type === 'checkbox' || type === 'radio') && / checked\b/.test(tag)))
      fields.push([name, value.replaceAll('&amp;', '&')]);
  }
  return fields;
}

/** A tiny cookie jar for HTTP walkers: Connect binds its session to the browser by cookie. */
export class CookieJar {
  readonly #cookies = new Map<string, { value: string; path: string }>();

  store(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = header.split(';');
      const eq = pair.indexOf('=');
      const path = attributes.map((a) => a.trim()).find((a) => a.toLowerCase().startsWith('path='));
      const cookiePath = path === undefined ? '/' : path.slice(5);
      this.#cookies.set(`${pair.slice(0, eq).trim()} ${cookiePath}`, {
        value: pair.slice(eq + 1).trim(),
        path: cookiePath,
      });
    }
  }

  header(url: string): string {
    const { pathname } = new URL(url);
    return [...this.#cookies.entries()]
      .filter(
        ([, c]) => pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`),
      )
      .map(([key, c]) => `${key.split(' ')[0]}=${c.value}`)
      .join('; ');
  }

  async get(url: string): Promise<{ status: number; text: string; location: string | null }> {
    const response = await fetch(url, { redirect: 'manual', headers: { cookie: this.header(url) } });
    this.store(response);
    return {
      status: response.status,
      text: await response.text(),
      location: response.headers.get('location'),
    };
  }

  async post(url: string, form: [string, string][]): Promise<Response> {
    const response = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: this.header(url) },
      body: new URLSearchParams(form).toString(),
    });
    this.store(response);
    return response;
  }
}

/**
 * Walks the Connect pages over plain HTTP, the way a browser would submit their forms (keeping cookies and
 * the forms' hidden and ticked fields): preamble → brand → sign-in → approve (or deny). Returns the final
 * redirect URL. `untick` leaves those optional permissions unticked.
 */
export async function connectOverHttp(
  authUrl: string,
  input: {
    brand: string;
    email: string;
    password?: string;
    deny?: boolean;
    untick?: readonly string[];
    jar?: CookieJar;
  },
): Promise<URL> {
  const jar = input.jar ?? new CookieJar();
  const origin = new URL(authUrl).origin;
  const preamble = await jar.get(authUrl);
  if (preamble.status !== 200) throw new Error(`authorize answered ${preamble.status}: ${preamble.text}`);
  const next = attribute(preamble.text, /<form method="get" action="([^"]+)"><button id="continue-button"/);
  let loginUrl = new URL(next, origin).toString();
  // `make` / `single_select_vin` skip the brand picker.
  if (next.endsWith('/brands')) {
    const brands = await jar.get(loginUrl);
    const brandAction = attribute(brands.text, /<form method="post" action="([^"]+)">/);
    const afterBrand = await jar.post(new URL(brandAction, origin).toString(), [
      ...formFields(brands.text),
      ['brand', input.brand],
    ]);
    loginUrl = new URL(afterBrand.headers.get('location') ?? '', origin).toString();
  }
  const login = await jar.get(loginUrl);
  const loginAction = attribute(login.text, /<form method="post" action="([^"]+)">/);
  const afterLogin = await jar.post(new URL(loginAction, origin).toString(), [
    ...formFields(login.text),
    ['username', input.email],
    ['password', input.password ?? 'any-password'],
  ]);
  if (afterLogin.status === 401) throw new Error('sign-in refused');
  const afterLoginLocation = afterLogin.headers.get('location') ?? '';
  if (!afterLoginLocation.startsWith('/connect/')) return new URL(afterLoginLocation);
  const approve = await jar.get(new URL(afterLoginLocation, origin).toString());
  if (approve.status === 303) return new URL(approve.location ?? '', origin);
  const approveAction = attribute(approve.text, /<form method="post" action="([^"]+)">/);
  const untick = new Set(input.untick ?? []);
  const form: [string, string][] = [
    ...formFields(approve.text).filter(([name, value]) => !(name === 'scope' && untick.has(value))),
    ['action', input.deny === true ? 'deny' : 'approve'],
  ];
  const final = await jar.post(new URL(approveAction, origin).toString(), form);
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

/**
 * A user connected to the simulator's demo app without the Connect pages (`sim.authorize`), and the code
 * exchanged for an access token over HTTP as an app would: the token and the user's vehicle ids.
 */
export async function connectedToken(
  sim: Simulator,
  input: { scope: string; email: string; make?: string; redirectUri?: string },
): Promise<{ token: string; vehicleIds: string[] }> {
  const redirectUri = input.redirectUri ?? 'https://example.com/auth';
  const { code, vehicleIds } = sim.authorize({
    clientId: sim.demoApp.clientId,
    redirectUri,
    scope: input.scope,
    email: input.email,
    ...(input.make === undefined ? {} : { make: input.make }),
  });
  const response = await fetch(`${sim.url}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${sim.demoApp.clientId}:${sim.demoApp.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
    }).toString(),
  });
  if (response.status !== 200)
    throw new Error(`token exchange answered ${response.status}: ${await response.text()}`);
  const { access_token: token } = (await response.json()) as { access_token: string };
  return { token, vehicleIds: [...vehicleIds] };
}
