/**
 * Redirect URI rules of the authorization server (RFC 9700 §4.1.3, RFC 8252 §7.3): a requested URI must equal
 * a registered one character for character. The single exception is a loopback redirect over plain http
 * (`127.0.0.1`, `[::1]`, `localhost`), whose port may differ at request time. Nothing is prefix- or
 * pattern-matched and nothing is read out of a parsed URL, so `http://localhost:@evil.example/` is just a
 * string that equals no registered URI.
 */

const LOOPBACK_ORIGINS = ['http://127.0.0.1', 'http://[::1]', 'http://localhost'] as const;

/** `http://<loopback host>` and what follows the optional `:port`, or undefined for any other URI. */
function splitLoopback(uri: string): { origin: string; rest: string } | undefined {
  for (const origin of LOOPBACK_ORIGINS) {
    if (!uri.startsWith(origin)) continue;
    const afterHost = uri.slice(origin.length);
    const port = /^:(\d{1,5})/.exec(afterHost);
    if (port !== null) {
      const value = Number(port[1]);
      if (value < 1 || value > 65_535) return undefined;
      return { origin, rest: afterHost.slice(port[0].length) };
    }
    return { origin, rest: afterHost };
  }
  return undefined;
}

/** Whether `requested` may be used where `registered` was registered. */
export function redirectUriMatches(registered: string, requested: string): boolean {
  if (registered === requested) return true;
  const left = splitLoopback(registered);
  const right = splitLoopback(requested);
  if (left === undefined || right === undefined) return false;
  // After the port comes a path, a query or nothing: never more host (`http://localhost.evil.example`).
  if (right.rest !== '' && !/^[/?]/.test(right.rest)) return false;
  return left.origin === right.origin && left.rest === right.rest;
}

export function redirectUriAllowed(registered: readonly string[], requested: string): boolean {
  return registered.some((uri) => redirectUriMatches(uri, requested));
}

/**
 * Why a URI cannot be registered, or undefined when it can: absolute http(s), no fragment (RFC 6749
 * §3.1.2), no userinfo, no wildcard, and plain http only for loopback.
 */
export function redirectUriProblem(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must use https (or http on loopback)';
  if (url.protocol === 'http:' && splitLoopback(uri) === undefined)
    return 'may use plain http only on 127.0.0.1, [::1] or localhost';
  if (uri.includes('#')) return 'must not contain a fragment';
  if (url.username !== '' || url.password !== '') return 'must not contain user information';
  if (uri.includes('*')) return 'must not contain wildcards: redirect URIs match exactly';
  if (url.href !== uri && `${url.href}` !== `${uri}/`) return `must be written in normal form (${url.href})`;
  return undefined;
}
