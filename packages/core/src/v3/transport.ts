import type { Transport } from '../client/http.ts';
import { V3ErrorBodySchema } from './schemas.ts';

/**
 * Wraps a transport so that v3 error bodies (`{"errors":[…]}`) reach the shared error mapping in the
 * v2.0 shape it reads (`type`, `code`, `description`, `statusCode`, …). Retries, timeouts, secret
 * scrubbing and the `VoltkitError` types then behave exactly as for v2.0.
 */
export function v3ErrorTransport(inner: Transport): Transport {
  return async (request) => {
    const response = await inner(request);
    if (response.status < 400) return response;
    let json: unknown;
    try {
      json = JSON.parse(response.text);
    } catch {
      return response;
    }
    const parsed = V3ErrorBodySchema.safeParse(json);
    const first = parsed.success ? parsed.data.errors[0] : undefined;
    if (first === undefined) return response;
    const statusCode = Number.parseInt(first.status, 10);
    const translated = {
      type: first.type,
      code: first.code,
      description: first.detail ?? first.title ?? 'Unknown error',
      statusCode: Number.isInteger(statusCode) ? statusCode : response.status,
      docURL: first.links?.about,
      resolution: first.resolution ?? null,
      suggestedUserMessage: first.suggestedUserMessage,
    };
    return { ...response, text: JSON.stringify(translated) };
  };
}
