/**
 * Walks the simulator's Connect pages over HTTP the way an owner's browser does: preamble, sign-in, consent,
 * then the redirect back to the app. Returns the callback URL the browser would open (with `code` and
 * `state`), without opening it.
 */
export async function walkConnect(
  connectUrl: string,
  account: { email: string; password?: string },
): Promise<URL> {
  const origin = new URL(connectUrl).origin;
  // Connect may bind its session to the browser by cookie: keep what it sets, as a browser does.
  const jar = new Map<string, string>();
  const page = (url: string) => getPage(url, jar);
  const post = (url: URL, form: Record<string, string> | URLSearchParams) => postForm(url, form, jar, origin);
  const preamble = await page(connectUrl);
  // The `make` parameter skips the brand picker: the preamble's form leads straight to sign-in.
  let next = formAction(preamble, origin);
  if (next.pathname.endsWith('/brands')) throw new Error('Connect asked for a brand: pass makeBypass');
  const signIn = await page(next.href);
  const afterLogin = await post(
    next,
    new URLSearchParams([
      ...hiddenFields(signIn),
      ['username', account.email],
      ['password', account.password ?? 'demo'],
    ]),
  );
  next = new URL(redirectTarget(afterLogin), origin);
  const consent = await page(next.href);
  const vehicles = [...consent.matchAll(/name="vehicle" value="([^"]+)"(?: checked)?/g)].map(
    (match) => match[1]!,
  );
  if (vehicles.length === 0) throw new Error(`Connect offered no vehicle to ${account.email}`);
  const approve = new URL(formAction(consent, origin));
  const body = new URLSearchParams([
    ...hiddenFields(consent),
    ['action', 'approve'],
    ...vehicles.map((id): [string, string] => ['vehicle', id]),
  ]);
  const redirect = await post(approve, body);
  const callback = new URL(redirectTarget(redirect));
  if (callback.searchParams.get('error')) {
    throw new Error(
      `Connect refused: ${callback.searchParams.get('error')} ${callback.searchParams.get('error_description') ?? ''}`,
    );
  }
  return callback;
}

function cookieHeader(jar: Map<string, string>): Record<string, string> {
  return jar.size === 0 ? {} : { cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; ') };
}

function keepCookies(response: Response, jar: Map<string, string>): void {
  for (const line of response.headers.getSetCookie()) {
    const pair = line.split(';')[0]!;
    const eq = pair.indexOf('=');
    if (eq > 0) jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
}

async function getPage(url: string, jar: Map<string, string>): Promise<string> {
  const response = await fetch(url, { redirect: 'manual', headers: cookieHeader(jar) });
  keepCookies(response, jar);
  const text = await response.text();
  if (response.status !== 200)
    throw new Error(`Connect page ${new URL(url).pathname} answered ${response.status}`);
  return text;
}

async function postForm(
  url: URL,
  form: Record<string, string> | URLSearchParams,
  jar: Map<string, string>,
  origin: string,
): Promise<Response> {
  const response = await fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin, ...cookieHeader(jar) },
    body: new URLSearchParams(form).toString(),
  });
  keepCookies(response, jar);
  await response.arrayBuffer();
  return response;
}

/** Hidden inputs of a page's form (a CSRF token, the session), sent back as a browser would. */
function hiddenFields(html: string): [string, string][] {
  return [...html.matchAll(/<input[^>]*type="hidden"[^>]*>/g)].flatMap((match) => {
    const name = /name="([^"]*)"/.exec(match[0])?.[1];
    const value = /value="([^"]*)"/.exec(match[0])?.[1] ?? '';
    return name === undefined ? [] : [[name, value.replaceAll('&amp;', '&')] as [string, string]];
  });
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
