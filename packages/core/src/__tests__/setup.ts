import { type ClientOptions, createClient, type VoltkitClient } from '@voltkit/core/client';
import { startTestServer, type TestServer } from './test-server.ts';

export interface Harness {
  server: TestServer;
  client: VoltkitClient;
  /** Delays the client's retry logic asked for (nothing actually waits). */
  delays: number[];
  /** A grant id with fresh tokens in the client's store. */
  grantId: string;
}

/** Starts a test server and a client pointed at it, with a stored grant and instant retries. */
export async function setup(overrides: Partial<ClientOptions> = {}): Promise<Harness> {
  const server = await startTestServer();
  const delays: number[] = [];
  const client = createClient({
    clientId: server.clientId,
    clientSecret: server.clientSecret,
    redirectUri: 'https://example.com/callback',
    origin: server.origin,
    retry: {
      retries: 2,
      random: () => 0.5,
      sleep: (ms) => {
        delays.push(ms);
        return Promise.resolve();
      },
    },
    timeoutMs: 5_000,
    ...overrides,
  });
  const tokens = server.issueTokens();
  const now = Date.now();
  await client.importGrant('owner-1', {
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    expiration: new Date(now + 7200_000),
    refreshExpiration: new Date(now + 60 * 86_400_000),
  });
  return { server, client, delays, grantId: 'owner-1' };
}
