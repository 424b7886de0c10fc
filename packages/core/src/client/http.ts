import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { z } from 'zod';
import {
  type AnyVoltkitError,
  CLIENT_ERROR_TYPES,
  isApiErrorType,
  isKnownApiErrorCode,
  toVoltkitError,
  VoltkitError,
  type VoltkitErrorCode,
} from '../errors.ts';
import { ApiErrorBodySchema } from '../types/api-error.ts';
import { type ResponseMeta, ResponseMetaSchema } from '../types/common.ts';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** Header names are looked up in lower case. */
export type HeaderLookup = (name: string) => string | null;

/** One HTTP exchange as the client needs it: the whole body as text. */
export interface TransportRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
  signal: AbortSignal;
}
export interface TransportResponse {
  status: number;
  header: HeaderLookup;
  text: string;
}
export type Transport = (request: TransportRequest) => Promise<TransportResponse>;

/** Adapts a WHATWG `fetch` (pluggable, e.g. for tests or other runtimes). */
export function fetchTransport(fetchImpl: FetchLike): Transport {
  return async (request) => {
    const response = await fetchImpl(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body ?? null,
      signal: request.signal,
    });
    const text = await response.text();
    return { status: response.status, header: (name) => response.headers.get(name), text };
  };
}

const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 64 });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 64 });

/**
 * The default transport: `node:http(s)` with keep-alive agents. Less per-request work than `fetch`
 * (no WHATWG streams), which is most of a small request's cost.
 */
export function nodeTransport(): Transport {
  return (request) =>
    new Promise<TransportResponse>((resolve, reject) => {
      const url = new URL(request.url);
      const secure = url.protocol === 'https:';
      const headers =
        request.body === undefined
          ? request.headers
          : { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) };
      const outgoing = (secure ? httpsRequest : httpRequest)(
        url,
        { method: request.method, headers, agent: secure ? httpsAgent : httpAgent, signal: request.signal },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
          incoming.on('error', reject);
          incoming.on('end', () => {
            const raw = incoming.headers;
            resolve({
              status: incoming.statusCode ?? 0,
              header: (name) => {
                const value = raw[name];
                return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
              },
              text:
                chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'),
            });
          });
        },
      );
      outgoing.on('error', reject);
      outgoing.end(request.body);
    });
}

/** Retry policy for safe requests (`GET`s and batch reads). Commands are never retried. */
export interface RetryOptions {
  /** Retries after the first attempt. @default 2 */
  retries?: number | undefined;
  /** First backoff step when there is no `Retry-After`. @default 500 */
  baseDelayMs?: number | undefined;
  /** Cap of one backoff delay. @default 10_000 */
  maxDelayMs?: number | undefined;
  /** A `Retry-After` longer than this is not waited for: the error is thrown with `retryAfter` set. @default 60_000 */
  maxRetryAfterMs?: number | undefined;
  /** Waits `ms` (injectable for tests). */
  sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
  /** Source of jitter in [0, 1). @default Math.random */
  random?: (() => number) | undefined;
}

/** {@link RetryOptions} with every default filled in. */
export interface ResolvedRetry {
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  maxRetryAfterMs: number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random: () => number;
}

/** Fills in the defaults of a retry policy (`false` turns retries off). */
export function resolveRetry(options: RetryOptions | false | undefined): ResolvedRetry | false {
  if (options === false) return false;
  return {
    retries: options?.retries ?? DEFAULT_RETRY.retries,
    baseDelayMs: options?.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs,
    maxDelayMs: options?.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs,
    maxRetryAfterMs: options?.maxRetryAfterMs ?? DEFAULT_RETRY.maxRetryAfterMs,
    sleep: options?.sleep ?? DEFAULT_RETRY.sleep,
    random: options?.random ?? DEFAULT_RETRY.random,
  };
}

export interface HttpConfig {
  transport: Transport;
  timeoutMs: number;
  retry: ResolvedRetry | false;
  userAgent: string;
}

export interface HttpRequest<T> {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string | undefined;
  /** Validates a 2xx body; `null` returns it unvalidated. */
  schema: z.ZodType<T, unknown> | null;
  /** Safe to send again (reads). */
  retryable: boolean;
  /** A 2xx with an empty body is fine (parsed as `undefined`; the schema is skipped). */
  allowEmpty?: boolean | undefined;
  signal?: AbortSignal | undefined;
  /** Values scrubbed from any text that ends up in an error. */
  secrets: readonly string[];
  /** Short description of the request for error messages, e.g. `GET /v2.0/vehicles/{id}/battery`. */
  label: string;
}

export interface HttpResponse<T> {
  status: number;
  body: T;
  meta: ResponseMeta;
}

const RETRY_STATUSES = new Set([429, 502, 503]);

export const DEFAULT_RETRY: ResolvedRetry = {
  retries: 2,
  baseDelayMs: 500,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 60_000,
  sleep: sleepFor,
  random: Math.random,
};

/** Sends one logical request: attempts, timeouts, retries, error mapping and body validation. */
export async function send<T>(config: HttpConfig, request: HttpRequest<T>): Promise<HttpResponse<T>> {
  const retry = config.retry;
  const maxAttempts = request.retryable && retry !== false ? retry.retries + 1 : 1;
  for (let attempt = 1; ; attempt++) {
    let failure: AnyVoltkitError;
    try {
      return await attemptOnce(config, request);
    } catch (error) {
      failure = toVoltkitError(error);
    }
    if (retry === false || attempt >= maxAttempts || !isRetryable(failure)) throw failure;
    const delay = backoffDelay(retry, attempt, failure.retryAfter);
    if (delay === undefined) throw failure;
    try {
      await retry.sleep(delay, request.signal);
    } catch (cause) {
      throw abortedError(request.label, cause);
    }
  }
}

function isRetryable(error: AnyVoltkitError): boolean {
  if (error.type === 'NETWORK') return true;
  return error.status !== null && RETRY_STATUSES.has(error.status) && error.type !== 'INVALID_RESPONSE';
}

/** Delay before retry number `attempt` (1-based), or `undefined` when the server asked for too long a wait. */
export function backoffDelay(
  retry: ResolvedRetry,
  attempt: number,
  retryAfterSeconds: number | undefined,
): number | undefined {
  const jitter = retry.random();
  if (retryAfterSeconds !== undefined) {
    const wait = retryAfterSeconds * 1000;
    if (wait > retry.maxRetryAfterMs) return undefined;
    // Never earlier than asked; spread a little so that many clients do not return in lockstep.
    return wait + Math.floor(jitter * Math.min(retry.baseDelayMs, retry.maxDelayMs));
  }
  const ceiling = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(jitter * ceiling);
}

async function attemptOnce<T>(config: HttpConfig, request: HttpRequest<T>): Promise<HttpResponse<T>> {
  // A clearable timer rather than AbortSignal.timeout(): no timer is left pending per finished request.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('timeout')), config.timeoutMs);
  const signal =
    request.signal === undefined ? controller.signal : AbortSignal.any([request.signal, controller.signal]);
  let response: TransportResponse;
  try {
    response = await config.transport({
      method: request.method,
      url: request.url,
      headers: { 'user-agent': config.userAgent, ...request.headers },
      body: request.body,
      signal,
    });
  } catch (cause) {
    if (controller.signal.aborted) {
      throw new VoltkitError({
        type: 'TIMEOUT',
        code: 'TIMEOUT',
        description: `${request.label} got no answer within ${config.timeoutMs} ms.`,
        cause,
      });
    }
    if (request.signal?.aborted === true) throw abortedError(request.label, cause);
    throw new VoltkitError({
      type: 'NETWORK',
      code: 'CONNECTION',
      description: `${request.label} failed: the connection could not be made or broke.`,
      cause,
    });
  } finally {
    clearTimeout(timer);
  }
  const { status, text } = response;
  if (status < 200 || status > 299) throw errorFromResponse(status, response.header, text, request);

  const meta = parseMeta(response.header, request.label, status);
  if (text.trim() === '') {
    if (request.allowEmpty === true || request.schema === null) return { status, body: undefined as T, meta };
    throw invalidResponse(
      'BODY',
      `${request.label} answered ${status} with an empty body.`,
      status,
      meta,
      [],
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw invalidResponse(
      'NOT_JSON',
      `${request.label} answered ${status} with a body that is not JSON.`,
      status,
      meta,
      [],
      cause,
    );
  }
  if (request.schema === null) return { status, body: json as T, meta };
  const parsed = request.schema.safeParse(json);
  if (!parsed.success) {
    throw invalidResponse(
      'BODY',
      `${request.label} answered with a body that does not match the schema: ${describeIssue(parsed.error.issues)}`,
      status,
      meta,
      parsed.error.issues,
    );
  }
  return { status, body: parsed.data, meta };
}

function describeIssue(issues: readonly z.core.$ZodIssue[]): string {
  const first = issues[0];
  if (first === undefined) return 'invalid';
  const path = first.path.length === 0 ? '(root)' : first.path.map(String).join('.');
  return `${path}: ${first.message}`;
}

function invalidResponse(
  code: 'BODY' | 'HEADER' | 'NOT_JSON',
  description: string,
  status: number,
  meta: ResponseMeta,
  issues: readonly z.core.$ZodIssue[],
  cause?: unknown,
): VoltkitError<'INVALID_RESPONSE'> {
  return new VoltkitError({
    type: 'INVALID_RESPONSE',
    code,
    description,
    status,
    requestId: meta.requestId,
    issues,
    cause,
  });
}

function abortedError(label: string, cause: unknown): VoltkitError<'TIMEOUT'> {
  return new VoltkitError({ type: 'TIMEOUT', code: 'ABORTED', description: `${label} was aborted.`, cause });
}

const META_HEADERS = ['sc-request-id', 'sc-data-age', 'sc-fetched-at', 'sc-unit-system'] as const;

/** Reads the `SC-*` headers into typed metadata; a malformed one is an `INVALID_RESPONSE`/`HEADER` error. */
export function parseMeta(
  headers: HeaderLookup | Readonly<Record<string, string>>,
  label: string,
  status: number | null,
): ResponseMeta {
  const record: Record<string, string> = {};
  for (const name of META_HEADERS) {
    const value = typeof headers === 'function' ? headers(name) : headers[name];
    if (value !== null && value !== undefined) record[name] = value;
  }
  if (Object.keys(record).length === 0) return {};
  const parsed = ResponseMetaSchema.safeParse(record);
  if (parsed.success) return parsed.data;
  const requestId = record['sc-request-id'];
  return throwHeaderError(label, status, parsed.error.issues, requestId);
}

function throwHeaderError(
  label: string,
  status: number | null,
  issues: readonly z.core.$ZodIssue[],
  requestId: string | undefined,
): never {
  throw new VoltkitError({
    type: 'INVALID_RESPONSE',
    code: 'HEADER',
    description: `${label} answered with a malformed header: ${describeIssue(issues)}`,
    status,
    requestId,
    issues,
  });
}

/** Replaces every secret in `text` by `[redacted]`. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  return out;
}

/** Seconds from a `Retry-After` header (delta-seconds or HTTP date). */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

interface ErrorSource {
  label: string;
  secrets: readonly string[];
}

/** Maps an error response (status, headers, raw text) to a typed {@link VoltkitError}. */
export function errorFromResponse(
  status: number,
  header: HeaderLookup,
  text: string,
  source: ErrorSource,
): AnyVoltkitError {
  const retryAfter = parseRetryAfter(header('retry-after'));
  const headerRequestId = header('sc-request-id') ?? undefined;
  let json: unknown;
  try {
    json = text.trim() === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return errorFromBody(status, json, { ...source, retryAfter, requestId: headerRequestId });
}

/** Maps a parsed error body (v2, OAuth or legacy) to a typed error; used for batch items too. */
export function errorFromBody(
  status: number,
  json: unknown,
  context: ErrorSource & { retryAfter?: number | undefined; requestId?: string | undefined },
): AnyVoltkitError {
  const clean = (value: string): string => scrub(value, context.secrets);
  const base = { status, retryAfter: context.retryAfter, requestId: context.requestId };
  const record =
    typeof json === 'object' && json !== null && !Array.isArray(json)
      ? (json as Record<string, unknown>)
      : undefined;

  if (record !== undefined && typeof record['type'] === 'string') {
    const parsed = ApiErrorBodySchema.safeParse(record);
    if (parsed.success) {
      const body = parsed.data;
      const common = {
        ...base,
        description: clean(body.description),
        requestId: body.requestId ?? context.requestId,
        resolution: body.resolution,
        suggestedUserMessage:
          body.suggestedUserMessage === undefined ? undefined : clean(body.suggestedUserMessage),
        docURL: body.docURL ?? undefined,
        detail: body.detail?.map((entry) =>
          entry.message === undefined ? entry : { ...entry, message: clean(entry.message) },
        ),
        rawType: body.type,
        rawCode: body.code,
        status: body.statusCode ?? status,
      };
      const type = body.type;
      if (isApiErrorType(type)) {
        const code = body.code !== null && isKnownApiErrorCode(type, body.code) ? body.code : null;
        return new VoltkitError<typeof type>({ ...common, type, code }) as AnyVoltkitError;
      }
      return new VoltkitError({ ...common, type: 'UNKNOWN', code: 'UNKNOWN' });
    }
  }
  if (record !== undefined && typeof record['error'] === 'string') {
    const error = record['error'];
    const description =
      typeof record['error_description'] === 'string'
        ? record['error_description']
        : typeof record['message'] === 'string'
          ? record['message']
          : 'Unknown error';
    const known = (CLIENT_ERROR_TYPES.OAUTH.codes as readonly string[]).includes(error);
    const details = {
      ...base,
      description: clean(description),
      rawType: error,
      rawCode: typeof record['code'] === 'string' ? record['code'] : null,
    };
    // Legacy v1.0 bodies (`{error, message, code}`) are not OAuth errors.
    if (typeof record['message'] === 'string' && !('error_description' in record)) {
      return new VoltkitError({ ...details, type: 'UNKNOWN', code: 'UNKNOWN' });
    }
    return new VoltkitError({
      ...details,
      type: 'OAUTH',
      code: known ? (error as VoltkitErrorCode<'OAUTH'>) : 'UNKNOWN',
    });
  }
  return new VoltkitError({
    ...base,
    type: 'UNKNOWN',
    code: 'UNKNOWN',
    description: `${context.label} failed with HTTP ${status} and no recognisable error body.`,
  });
}

/** Promise-based sleep that rejects when `signal` aborts. */
export function sleepFor(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
