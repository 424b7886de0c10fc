/**
 * A browser as far as HTTP goes: it keeps cookies per host name (as browsers do, whatever the port),
 * honours Max-Age/Expires and Path, and sends `Origin` with every request that is not GET/HEAD, as a
 * browser's same-origin fetch does. `origin` overrides that for cross-site attempts.
 */
export class TestBrowser {
  private readonly jar = new Map<string, Map<string, { value: string; path: string; expires: number }>>();

  cookie(host: string, name: string): string | undefined {
    const entry = this.jar.get(host)?.get(name);
    return entry && entry.expires > Date.now() ? entry.value : undefined;
  }

  setCookie(host: string, name: string, value: string, path = '/'): void {
    if (!this.jar.has(host)) this.jar.set(host, new Map());
    this.jar.get(host)!.set(name, { value, path, expires: Number.POSITIVE_INFINITY });
  }

  async fetch(url: URL | string, init: RequestInit & { origin?: string | null } = {}): Promise<Response> {
    const target = new URL(url);
    const headers = new Headers(init.headers);
    const cookies = [...(this.jar.get(target.hostname) ?? new Map()).entries()]
      .filter(([, entry]) => entry.expires > Date.now() && target.pathname.startsWith(entry.path))
      .map(([name, entry]) => `${name}=${entry.value}`);
    if (cookies.length > 0) headers.set('cookie', cookies.join('; '));
    const method = (init.method ?? 'GET').toUpperCase();
    const origin =
      init.origin === undefined
        ? method === 'GET' || method === 'HEAD'
          ? null
          : target.origin
        : init.origin;
    if (origin !== null) headers.set('origin', origin);
    const { origin: _origin, ...rest } = init;
    const response = await fetch(target, { ...rest, headers, redirect: init.redirect ?? 'manual' });
    for (const line of response.headers.getSetCookie()) this.store(target, line);
    return response;
  }

  private store(target: URL, line: string): void {
    const [pair, ...attributes] = line.split(';').map((part) => part.trim());
    const eq = pair!.indexOf('=');
    const name = pair!.slice(0, eq);
    const value = pair!.slice(eq + 1);
    let path = '/';
    let expires = Number.POSITIVE_INFINITY;
    for (const attribute of attributes) {
      const [key, ...rest] = attribute.split('=');
      const attributeValue = rest.join('=');
      if (key!.toLowerCase() === 'path') path = attributeValue;
      if (key!.toLowerCase() === 'max-age') expires = Date.now() + Number(attributeValue) * 1000;
      if (key!.toLowerCase() === 'expires' && expires === Number.POSITIVE_INFINITY)
        expires = Date.parse(attributeValue);
    }
    if (!this.jar.has(target.hostname)) this.jar.set(target.hostname, new Map());
    const cookies = this.jar.get(target.hostname)!;
    if (value === '' || expires <= Date.now()) cookies.delete(name);
    else cookies.set(name, { value, path, expires });
  }
}
