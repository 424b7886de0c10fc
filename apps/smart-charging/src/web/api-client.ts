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
export const apiSend = <T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> =>
  request<T>(method, path, body);

export type Role = 'operator' | 'owner';
export interface Viewer {
  readonly role: Role;
  readonly name: string;
}

/**
 * Who is looking: the one place roles enter the front end. The service does not authenticate yet, so
 * everyone is the operator; with authentication this asks the service (e.g. `GET api/me`) and the owner's
 * page shows whatever cars `GET api/vehicles` returns for that session.
 */
export function whoAmI(): Promise<Viewer> {
  return Promise.resolve({ role: 'operator', name: 'operator' });
}
