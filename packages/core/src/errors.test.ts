import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isVoltkitError, toVoltkitError, VoltkitError } from '@voltkit/core';

describe('VoltkitError', () => {
  it('carries every field and formats the message like the SDK', () => {
    const cause = new Error('socket');
    const error = new VoltkitError({
      type: 'RATE_LIMIT',
      code: 'VEHICLE',
      status: 429,
      description: 'slow down',
      requestId: 'req-1',
      retryAfter: 30,
      resolution: { type: 'RETRY_LATER' },
      suggestedUserMessage: 'Try later',
      docURL: 'https://smartcar.com/docs/errors/api-errors/rate-limit-errors#vehicle',
      cause,
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('VoltkitError');
    expect(error.message).toBe('RATE_LIMIT:VEHICLE - slow down');
    expect(error).toMatchObject({
      type: 'RATE_LIMIT',
      code: 'VEHICLE',
      status: 429,
      requestId: 'req-1',
      retryAfter: 30,
      resolution: { type: 'RETRY_LATER' },
      suggestedUserMessage: 'Try later',
      rawType: 'RATE_LIMIT',
      rawCode: 'VEHICLE',
    });
    expect(error.cause).toBe(cause);
  });

  it('names the first wrong field of a validation error and keeps the zod issues', () => {
    const result = z.object({ percentRemaining: z.number() }).safeParse({ percentRemaining: 'x' });
    expect(result.success).toBe(false);
    const error = new VoltkitError({
      type: 'INVALID_RESPONSE',
      code: 'BODY',
      description: 'bad body',
      issues: result.error!.issues,
    });
    expect(error.field).toBe('percentRemaining');
    expect(error.issues[0]?.path).toEqual(['percentRemaining']);
    expect(error.message).toContain('percentRemaining');
  });

  it('is recognised by its global brand, also from a second copy of the package', () => {
    const error = new VoltkitError({ type: 'NETWORK', code: 'CONNECTION', description: 'down' });
    expect(isVoltkitError(error)).toBe(true);
    expect(isVoltkitError(error, 'NETWORK')).toBe(true);
    expect(isVoltkitError(error, 'TIMEOUT')).toBe(false);
    // What a duplicate install's error looks like to this copy: not our class, same global brand.
    const foreign = Object.defineProperty(new Error('x'), Symbol.for('@voltkit/core/error'), { value: true });
    expect(foreign instanceof VoltkitError).toBe(false);
    expect(isVoltkitError(foreign)).toBe(true);
    expect(isVoltkitError(new Error('x'))).toBe(false);
    expect(isVoltkitError({ type: 'NETWORK' })).toBe(false);
    expect(isVoltkitError(null)).toBe(false);
  });

  it('wraps unknown errors with their cause', () => {
    const original = new TypeError('boom');
    const wrapped = toVoltkitError(original);
    expect(wrapped.type).toBe('UNKNOWN');
    expect(wrapped.cause).toBe(original);
    const already = new VoltkitError({ type: 'TIMEOUT', code: 'TIMEOUT', description: 't' });
    expect(toVoltkitError(already)).toBe(already);
  });
});
