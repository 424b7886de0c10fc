/**
 * Every request the pages make: same origin, relative to the page (works under a path prefix), JSON
 * bodies with `content-type: application/json`. Errors carry the API's message, which names the field.
 */
export class ApiRequestError extends Error {
  override name = 'ApiRequestError';
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers:
      body === undefined
        ? { accept: 'application/json' }
        : { accept: 'application/json', 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const parsed: unknown = text === '' ? null : JSON.parse(text);
  if (!response.ok) {
    const message =
      (parsed as { error?: { message?: string } } | null)?.error?.message ??
      `${method} ${path}: HTTP ${response.status}`;
    throw new ApiRequestError(response.status, message);
  }
  return parsed as T;
}

export const apiGet = <T>(path: string): Promise<T> => request<T>('GET', path);
/**
 * Every item of a paged list (`{ items, nextCursor }`), following the cursors up to `max` items: the
 * console sorts and searches what it holds; past `max` it shows the first ones and says so.
 */
export async function apiGetAll<T>(path: string, max = 5_000): Promise<{ items: T[]; complete: boolean }> {
  const items: T[] = [];
  let cursor: string | null = null;
  const separator = path.includes('?') ? '&' : '?';
  do {
    const page: { items: T[]; nextCursor: string | null } = await apiGet(
      `${path}${separator}limit=1000${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
    );
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null && items.length < max);
  return { items, complete: cursor === null };
}

export const apiSend = <T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> =>
  request<T>(method, path, body);

export type Role = 'operator' | 'owner' | 'anonymous';
export interface Viewer {
  readonly role: Role;
  readonly name: string;
  /** Operators only: `read` may look, `admin` may change. */
  readonly operatorRole?: 'admin' | 'read';
}

/**
 * Who is looking: the one place roles enter the front end. The service answers from the session cookie
 * (`GET api/me`); an owner's API calls return only their own cars, so the owner's page shows what it gets.
 */
export async function whoAmI(): Promise<Viewer> {
  const me = await apiGet<
    | { kind: 'anonymous' }
    | { kind: 'owner'; name: string }
    | { kind: 'operator'; name: string; role: 'admin' | 'read' }
  >('api/me');
  if (me.kind === 'anonymous') return { role: 'anonymous', name: '' };
  if (me.kind === 'owner') return { role: 'owner', name: me.name };
  return { role: 'operator', name: me.name, operatorRole: me.role };
}

/** Asks the service for a fresh Connect link bound to this browser, then goes there. */
export async function reconnect(path: string): Promise<void> {
  const { connectUrl } = await apiSend<{ connectUrl: string }>('POST', path);
  location.assign(connectUrl);
}
