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
  const preamble = await page(connectUrl);
  // The `make` parameter skips the brand picker: the preamble's form leads straight to sign-in.
  let next = formAction(preamble, origin);
  if (next.pathname.endsWith('/brands')) throw new Error('Connect asked for a brand: pass makeBypass');
  await page(next.href);
  const afterLogin = await post(next, { username: account.email, password: account.password ?? 'demo' });
  next = new URL(redirectTarget(afterLogin), origin);
  const consent = await page(next.href);
  const vehicles = [...consent.matchAll(/name="vehicle" value="([^"]+)"(?: checked)?/g)].map(
    (match) => match[1]!,
  );
  if (vehicles.length === 0) throw new Error(`Connect offered no vehicle to ${account.email}`);
  const approve = new URL(formAction(consent, origin));
  const body = new URLSearchParams([
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

async function page(url: string): Promise<string> {
  const response = await fetch(url, { redirect: 'manual' });
  const text = await response.text();
  if (response.status !== 200)
    throw new Error(`Connect page ${new URL(url).pathname} answered ${response.status}`);
  return text;
}

async function post(url: URL, form: Record<string, string> | URLSearchParams): Promise<Response> {
  const response = await fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
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
