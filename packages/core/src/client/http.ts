import { Agent, type Dispatcher } from 'undici';
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

/** Response headers: a lookup, or an object keyed by lower-case name (undici's form). */
export type HeaderSource = HeaderLookup | Readonly<Record<string, string | string[] | undefined>>;

/** One header's value (repeated headers joined with `, `), or `null`. */
export function readHeader(headers: HeaderSource, name: string): string | null {
  const value = typeof headers === 'function' ? headers(name) : headers[name];
  if (value === undefined || value === null) return null;
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Aborts one attempt (its timeout, or the caller's signal). A plain object with one listener list: far
 * cheaper per request than an AbortController and its AbortSignal, which undici would listen to twice
 * (that alone cost about a third of a small request).
 */
export class AttemptAbort {
  aborted = false;
  /** Set when the attempt's own timeout fired (rather than the caller's signal). */
  timedOut = false;
  reason: unknown = undefined;
  #targets: Abortable[] | undefined;

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const targets = this.#targets;
    this.#targets = undefined;
    if (targets !== undefined) for (const target of targets) target.abort(reason);
  }

  /** Aborts `target` with this attempt (at once when already aborted). Objects, not closures: no per-call allocation of functions. */
  propagateTo(target: Abortable): void {
    if (this.aborted) target.abort(this.reason);
    else (this.#targets ??= []).push(target);
  }

  /** A real AbortSignal that follows this one, for transports that need one (`fetch`). */
  toSignal(): AbortSignal {
    const controller = new AbortController();
    this.propagateTo(controller);
    return controller.signal;
  }
}

/** Anything with `abort(reason)`: an AbortController, a transport's handler. */
export interface Abortable {
  abort(reason: unknown): void;
}

/** One HTTP exchange as the client needs it: the whole body as text. */
export interface TransportRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
  signal: AttemptAbort;
}
export interface TransportResponse {
  status: number;
  headers: HeaderSource;
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
      signal: request.signal.toSignal(),
    });
    const text = await response.text();
    const headers = response.headers;
    return { status: response.status, headers: (name) => headers.get(name), text };
  };
}

let sharedDispatcher: Agent | undefined;

/**
 * The default transport: undici with keep-alive connections (at most 64 per origin), shared by every client
 * of the process as the `node:http` agents were. It dispatches with a handler that collects the body
 * chunks itself: no ClientRequest and agent as with `node:http`, no stream per response as with undici's
 * `request()`, no WHATWG streams as with `fetch` — which is most of what a small API call costs.
 */
export function undiciTransport(): Transport {
  sharedDispatcher ??= new Agent({ connections: 64, keepAliveTimeout: 30_000 });
  const dispatcher = sharedDispatcher;
  return (request) =>
    new Promise<TransportResponse>((resolve, reject) => {
      const { origin, path } = splitUrl(request.url);
      const handler = new CollectingHandler(resolve, reject);
      request.signal.propagateTo(handler);
      dispatcher.dispatch(
        {
          origin,
          path,
          method: request.method,
          headers: request.headers,
          body: request.body ?? null,
        },
        handler,
      );
    });
}

type ResponseHeaders = Record<string, string | string[] | undefined>;

/** Receives one response from undici: status, headers, the body's chunks; settles its promise once. */
class CollectingHandler implements Dispatcher.DispatchHandler, Abortable {
  #status = 0;
  #headers: ResponseHeaders = {};
  #chunks: Buffer[] = [];
  #controller: Dispatcher.DispatchController | undefined;
  #abortReason: unknown = undefined;
  #settled = false;
  readonly #resolve: (response: TransportResponse) => void;
  readonly #reject: (error: unknown) => void;

  constructor(resolve: (response: TransportResponse) => void, reject: (error: unknown) => void) {
    this.#resolve = resolve;
    this.#reject = reject;
  }

  /** Rejects at once; the request is aborted as soon as undici has started it (or now, if it has). */
  abort(reason: unknown): void {
    if (this.#settled) return;
    this.#abortReason = reason ?? new Error('aborted');
    this.#controller?.abort(this.#abortReason as Error);
    this.#settle(undefined, this.#abortReason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#abortReason !== undefined) controller.abort(this.#abortReason as Error);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: ResponseHeaders,
  ): void {
    this.#status = statusCode;
    this.#headers = headers;
    this.#chunks = [];
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    const chunks = this.#chunks;
    const text =
      chunks.length === 0
        ? ''
        : chunks.length === 1
          ? chunks[0]!.toString('utf8')
          : Buffer.concat(chunks).toString('utf8');
    this.#settle({ status: this.#status, headers: this.#headers, text }, undefined);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.#settle(undefined, error);
  }

  #settle(response: TransportResponse | undefined, error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    if (response === undefined) this.#reject(error);
    else this.#resolve(response);
  }
}

/** The default transport on Node (its name from when it was built on `node:http`): {@link undiciTransport}. */
export const nodeTransport: () => Transport = undiciTransport;

/** `scheme://host[:port]` and the rest (path and query), without building a WHATWG URL per request. */
function splitUrl(url: string): { origin: string; path: string } {
  const hostStart = url.indexOf('//') + 2;
  if (hostStart < 2) throw new TypeError(`not an absolute URL: ${url}`);
  const pathStart = url.indexOf('/', hostStart);
  if (pathStart === -1) {
    const queryStart = url.indexOf('?', hostStart);
    return queryStart === -1
      ? { origin: url, path: '/' }
      : { origin: url.slice(0, queryStart), path: `/${url.slice(queryStart)}` };
  }
  return { origin: url.slice(0, pathStart), path: url.slice(pathStart) };
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
  /** Values scrubbed from any text that ends up in an error (a function: only gathered when one does). */
  secrets: readonly string[] | (() => readonly string[]);
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
export function send<T>(config: HttpConfig, request: HttpRequest<T>): Promise<HttpResponse<T>> {
  // The first attempt outside the retry loop: a request that succeeds (nearly all) pays for no loop frame.
  return attemptOnce(config, request).catch((error: unknown) => retryAfter(config, request, error));
}

async function retryAfter<T>(
  config: HttpConfig,
  request: HttpRequest<T>,
  firstError: unknown,
): Promise<HttpResponse<T>> {
  const retry = config.retry;
  const maxAttempts = request.retryable && retry !== false ? retry.retries + 1 : 1;
  let failure: AnyVoltkitError = toVoltkitError(firstError);
  for (let attempt = 1; ; attempt++) {
    if (retry === false || attempt >= maxAttempts || !isRetryable(failure)) throw failure;
    const delay = backoffDelay(retry, attempt, failure.retryAfter);
    if (delay === undefined) throw failure;
    try {
      await retry.sleep(delay, request.signal);
    } catch (cause) {
      throw abortedError(request.label, cause);
    }
    try {
      return await attemptOnce(config, request);
    } catch (error) {
      failure = toVoltkitError(error);
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

function timeOutAttempt(attempt: AttemptAbort): void {
  attempt.timedOut = true;
  attempt.abort(new Error('timeout'));
}

async function attemptOnce<T>(config: HttpConfig, request: HttpRequest<T>): Promise<HttpResponse<T>> {
  // A clearable timer rather than AbortSignal.timeout(): no timer is left pending per finished request.
  const attempt = new AttemptAbort();
  const timer = setTimeout(timeOutAttempt, config.timeoutMs, attempt);
  const callerSignal = request.signal;
  const onCallerAbort =
    callerSignal === undefined ? undefined : (): void => attempt.abort(callerSignal.reason);
  if (callerSignal !== undefined && onCallerAbort !== undefined) {
    if (callerSignal.aborted) onCallerAbort();
    else callerSignal.addEventListener('abort', onCallerAbort, { once: true });
  }
  let response: TransportResponse;
  try {
    response = await config.transport({
      method: request.method,
      url: request.url,
      headers:
        request.headers['user-agent'] === undefined
          ? { 'user-agent': config.userAgent, ...request.headers }
          : request.headers,
      body: request.body,
      signal: attempt,
    });
  } catch (cause) {
    if (attempt.timedOut) {
      throw new VoltkitError({
        type: 'TIMEOUT',
        code: 'TIMEOUT',
        description: `${request.label} got no answer within ${config.timeoutMs} ms.`,
        cause,
      });
    }
    if (callerSignal?.aborted === true) throw abortedError(request.label, cause);
    throw new VoltkitError({
      type: 'NETWORK',
      code: 'CONNECTION',
      description: `${request.label} failed: the connection could not be made or broke.`,
      cause,
    });
  } finally {
    clearTimeout(timer);
    if (onCallerAbort !== undefined) callerSignal?.removeEventListener('abort', onCallerAbort);
  }
  const { status, text } = response;
  if (status < 200 || status > 299) {
    const secrets = typeof request.secrets === 'function' ? request.secrets() : request.secrets;
    throw errorFromResponse(status, response.headers, text, { label: request.label, secrets });
  }

  const meta = parseMeta(response.headers, request.label, status);
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
export function parseMeta(headers: HeaderSource, label: string, status: number | null): ResponseMeta {
  const record: Record<string, string> = {};
  let present = 0;
  for (const name of META_HEADERS) {
    const value = readHeader(headers, name);
    if (value !== null) {
      record[name] = value;
      present++;
    }
  }
  if (present === 0) return {};
  const fast = canonicalMeta(record);
  if (fast !== undefined) return fast;
  const parsed = ResponseMetaSchema.safeParse(record);
  if (parsed.success) return parsed.data;
  const requestId = record['sc-request-id'];
  return throwHeaderError(label, status, parsed.error.issues, requestId);
}

/**
 * The headers as Smartcar (and the simulator) send them — timestamps in `Date#toISOString()` form — read
 * without zod: a narrow subset of what {@link ResponseMetaSchema} accepts, giving the same result. Anything
 * else (`undefined`) goes through the schema, which accepts or names the bad header.
 */
function canonicalMeta(record: Readonly<Record<string, string>>): ResponseMeta | undefined {
  const meta: ResponseMeta = {};
  const requestId = record['sc-request-id'];
  if (requestId !== undefined) {
    if (requestId.length === 0) return undefined;
    meta.requestId = requestId;
  }
  const dataAge = record['sc-data-age'];
  if (dataAge !== undefined) {
    const date = canonicalDate(dataAge);
    if (date === undefined) return undefined;
    meta.dataAge = date;
  }
  const fetchedAt = record['sc-fetched-at'];
  if (fetchedAt !== undefined) {
    const date = canonicalDate(fetchedAt);
    if (date === undefined) return undefined;
    meta.fetchedAt = date;
  }
  const unitSystem = record['sc-unit-system'];
  if (unitSystem !== undefined) {
    if (unitSystem !== 'metric' && unitSystem !== 'imperial') return undefined;
    meta.unitSystem = unitSystem;
  }
  return meta;
}

/**
 * `YYYY-MM-DDTHH:mm:ss.sssZ` with a real calendar day (a 30 February would roll over, and is refused), read
 * digit by digit: a regex and a date-string parse cost more than the rest of the headers. Years before 100
 * are left to the schema (`Date.UTC` would read them as 19xx).
 */
function canonicalDate(value: string): Date | undefined {
  if (
    value.length !== 24 ||
    value.charCodeAt(4) !== 45 /* - */ ||
    value.charCodeAt(7) !== 45 ||
    value.charCodeAt(10) !== 84 /* T */ ||
    value.charCodeAt(13) !== 58 /* : */ ||
    value.charCodeAt(16) !== 58 ||
    value.charCodeAt(19) !== 46 /* . */ ||
    value.charCodeAt(23) !== 90 /* Z */
  )
    return undefined;
  const year = digitsAt(value, 0, 4);
  const month = digitsAt(value, 5, 2);
  const day = digitsAt(value, 8, 2);
  const hour = digitsAt(value, 11, 2);
  const minute = digitsAt(value, 14, 2);
  const second = digitsAt(value, 17, 2);
  const millisecond = digitsAt(value, 20, 3);
  if (year < 100 || month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || millisecond < 0)
    return undefined;
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second, millisecond));
  return date.getUTCDate() === day ? date : undefined;
}

/** The decimal number of `count` digits at `start`, or -1 if one of them is not a digit. */
function digitsAt(value: string, start: number, count: number): number {
  let result = 0;
  for (let i = start; i < start + count; i++) {
    const digit = value.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    result = result * 10 + digit;
  }
  return result;
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
  headers: HeaderSource,
  text: string,
  source: ErrorSource,
): AnyVoltkitError {
  const retryAfter = parseRetryAfter(readHeader(headers, 'retry-after'));
  const headerRequestId = readHeader(headers, 'sc-request-id') ?? undefined;
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
