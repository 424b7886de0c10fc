/**
 * Walks the simulator's Connect pages over HTTP the way an owner's browser does: preamble, sign-in, consent,
 * then the redirect back to the app. Like a browser it keeps Connect's session cookie and submits each
 * form's hidden and ticked fields. Returns the callback URL the browser would open (with `code` and
 * `state`), without opening it.
 */
export async function walkConnect(
  connectUrl: string,
  account: { email: string; password?: string },
): Promise<URL> {
  const origin = new URL(connectUrl).origin;
  const cookies: string[] = [];
  const preamble = await page(connectUrl, cookies);
  // The `make` parameter skips the brand picker: the preamble's form leads straight to sign-in.
  let next = formAction(preamble, origin);
  if (next.pathname.endsWith('/brands')) throw new Error('Connect asked for a brand: pass makeBypass');
  const login = await page(next.href, cookies);
  const afterLogin = await post(next, cookies, [
    ...formFields(login),
    ['username', account.email],
    ['password', account.password ?? 'demo'],
  ]);
  next = new URL(redirectTarget(afterLogin), origin);
  // An owner who already granted these permissions is sent straight back (approval_prompt=auto).
  const callback = next.origin === origin && next.pathname.startsWith('/connect/') ? undefined : next;
  return checked(callback ?? (await approve(next, origin, cookies, account.email)));
}

/** Connect sent the owner back to the app with an error (`vehicle_incompatible`, `access_denied`, …). */
export class ConnectRefusedError extends Error {
  override name = 'ConnectRefusedError';
  readonly error: string;
  /** The callback URL the browser is sent to, carrying the error. */
  readonly callback: URL;
  constructor(error: string, callback: URL) {
    super(`Connect refused: ${error} ${callback.searchParams.get('error_description') ?? ''}`);
    this.error = error;
    this.callback = callback;
  }
}

async function approve(consentUrl: URL, origin: string, cookies: string[], email: string): Promise<URL> {
  // Connect answers the consent page with a redirect when no vehicle can grant what is required.
  const early = await fetch(consentUrl, { redirect: 'manual', headers: { cookie: cookies.join('; ') } });
  await early.arrayBuffer();
  if (early.status === 303) return new URL(redirectTarget(early), origin);
  const consent = await page(consentUrl.href, cookies);
  const fields = formFields(consent);
  if (!fields.some(([name]) => name === 'vehicle')) throw new Error(`Connect offered no vehicle to ${email}`);
  const redirect = await post(formAction(consent, origin), cookies, [...fields, ['action', 'approve']]);
  return new URL(redirectTarget(redirect));
}

function checked(callback: URL): URL {
  const error = callback.searchParams.get('error');
  if (error) throw new ConnectRefusedError(error, callback);
  return callback;
}

/** What a browser submits from the page's form: hidden fields and ticked, enabled boxes. */
function formFields(html: string): [string, string][] {
  const form = /<form[^>]*>([\s\S]*?)<\/form>/.exec(html)?.[1] ?? '';
  const fields: [string, string][] = [];
  for (const [tag] of form.matchAll(/<input\b[^>]*>/g)) {
    const name = /\bname="([^"]*)"/.exec(tag)?.[1];
    const type = /\btype="([^"]*)"/.exec(tag)?.[1] ?? 'text';
    if (name === undefined || / disabled\b/.test(tag)) continue;
    if (type === 'hidden' || ((type === 'checkbox' || type === 'radio') && / checked\b/.test(tag)))
      fields.push([name, (/\bvalue="([^"]*)"/.exec(tag)?.[1] ?? 'on').replaceAll('&amp;', '&')]);
  }
  return fields;
}

/** Connect binds its session to the browser with a cookie: keep what it sets, send it back. */
function keepCookies(response: Response, cookies: string[]): void {
  for (const header of response.headers.getSetCookie()) cookies.push(header.split(';')[0]!);
}

async function page(url: string, cookies: string[]): Promise<string> {
  const response = await fetch(url, { redirect: 'manual', headers: { cookie: cookies.join('; ') } });
  keepCookies(response, cookies);
  const text = await response.text();
  if (response.status !== 200)
    throw new Error(`Connect page ${new URL(url).pathname} answered ${response.status}`);
  return text;
}

async function post(url: URL, cookies: string[], form: [string, string][]): Promise<Response> {
  const response = await fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookies.join('; ') },
    body: new URLSearchParams(form).toString(),
  });
  keepCookies(response, cookies);
  await response.arrayBuffer();
  return response;
}

function formAction(html: string, origin: string): URL {
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  if (action === undefined) throw new Error('Connect page without a form');
  return new URL(action.replaceAll('&amp;', '&'), origin);
}

function redirectTarget(response: Response): string {
  const location = response.headers.get('location');
  if (response.status < 300 || response.status >= 400 || location === null) {
    throw new Error(`Connect did not redirect (status ${response.status})`);
  }
  return location;
}
