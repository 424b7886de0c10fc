import { describe, expect, it } from 'vitest';
import { redirectUriMatches, redirectUriProblem } from './redirect-uri.ts';

describe('redirect URI matching', () => {
  it('is exact string equality, with the port free only on plain-http loopback hosts', () => {
    expect(redirectUriMatches('https://example.com/auth', 'https://example.com/auth')).toBe(true);
    expect(redirectUriMatches('http://127.0.0.1/cb', 'http://127.0.0.1:51234/cb')).toBe(true);
    expect(redirectUriMatches('http://[::1]/cb', 'http://[::1]:8080/cb')).toBe(true);
    expect(redirectUriMatches('http://localhost:3000/cb', 'http://localhost:9/cb?x=1')).toBe(false);
    expect(redirectUriMatches('http://localhost:3000/cb', 'http://localhost:9/cb')).toBe(true);
    for (const attack of [
      'http://localhost:@evil.example/cb',
      'http://localhost:80@evil.example/cb',
      'http://localhost.evil.example/cb',
      'http://localhost:0/cb',
      'http://localhost:65536/cb',
      'http://localhost:8080/cb/../../steal',
      'http://localhost:8080/cbx',
      'http://LOCALHOST:8080/cb',
      'https://localhost:8080/cb',
    ])
      expect(redirectUriMatches('http://localhost/cb', attack), attack).toBe(false);
    expect(redirectUriMatches('https://example.com/auth', 'https://example.com:444/auth')).toBe(false);
    expect(redirectUriMatches('https://example.com/auth', 'https://example.com/auth/')).toBe(false);
  });

  it('refuses to register wildcards, fragments, user information and plain http off loopback', () => {
    expect(redirectUriProblem('https://example.com/auth')).toBeUndefined();
    expect(redirectUriProblem('http://localhost/callback')).toBeUndefined();
    expect(redirectUriProblem('http://localhost:*')).toMatch(/wildcard|normal form|absolute/);
    expect(redirectUriProblem('https://example.com/auth#x')).toMatch(/fragment/);
    expect(redirectUriProblem('https://user@example.com/auth')).toMatch(/user information/);
    expect(redirectUriProblem('http://example.com/auth')).toMatch(/plain http/);
    expect(redirectUriProblem('javascript:alert(1)')).toMatch(/https/);
    expect(redirectUriProblem('not a url')).toMatch(/absolute/);
  });
});
