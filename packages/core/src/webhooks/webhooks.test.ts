import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  answerChallenge,
  hashChallenge,
  isVoltkitError,
  parseWebhook,
  verifyPayload,
  verifySignature,
} from '@voltkit/core/client';

describe('webhook signatures (reference §5 vectors)', () => {
  it('hashes the challenge', () => {
    expect(hashChallenge('amt', 'challenge')).toBe(
      '9baf5a7464bd86740ad5a06e439dcf535a075022ed2c92d74efacf646d79328e',
    );
    expect(answerChallenge('amt', 'challenge')).toEqual({
      challenge: '9baf5a7464bd86740ad5a06e439dcf535a075022ed2c92d74efacf646d79328e',
    });
  });

  it('verifies a payload', () => {
    const signature = '4c05a8da471f05156ad717baa4017acd13a3a809850b9ca7d3301dcaaa854f70';
    expect(verifyPayload('amt', signature, { pizza: 'pasta' })).toBe(true);
    expect(verifySignature('amt', signature, '{"pizza":"pasta"}')).toBe(true);
    expect(verifySignature('amt', signature.toUpperCase(), Buffer.from('{"pizza":"pasta"}'))).toBe(true);
    expect(verifySignature('amt', signature, '{"pizza": "pasta"}')).toBe(false);
    expect(verifySignature('other', signature, '{"pizza":"pasta"}')).toBe(false);
    expect(verifySignature('amt', signature.slice(0, 63), '{"pizza":"pasta"}')).toBe(false);
    expect(verifySignature('amt', undefined, '{"pizza":"pasta"}')).toBe(false);
  });

  it('parses a signed delivery and rejects tampering', () => {
    const body = JSON.stringify({
      version: '2.0',
      webhookId: 'w1',
      eventName: 'verify',
      payload: { challenge: 'abc' },
    });
    const signature = createHmac('sha256', 'secret-amt').update(body).digest('hex');
    const payload = parseWebhook(body, signature, 'secret-amt');
    expect(payload.eventName).toBe('verify');
    expect(() => parseWebhook(body.replace('abc', 'abd'), signature, 'secret-amt')).toThrowError(
      /SC-Signature/,
    );
    const bad = JSON.stringify({ version: '2.0', webhookId: 'w1', eventName: 'verify', payload: {} });
    let caught: unknown;
    try {
      parseWebhook(bad, createHmac('sha256', 'secret-amt').update(bad).digest('hex'), 'secret-amt');
    } catch (error) {
      caught = error;
    }
    expect(isVoltkitError(caught, 'INVALID_RESPONSE') && caught.field).toBe('payload.challenge');
    expect(String(caught)).not.toContain('secret-amt');
  });
});
