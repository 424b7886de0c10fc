import type { FastifyInstance } from 'fastify';
import type { SimulatorEngine } from '../engine.ts';
import { OAuthError } from '../oauth/tokens.ts';
import { formValue, formValues } from './form.ts';
import { headerValue } from './reply.ts';

/** The token endpoint: authorization codes and refresh tokens for access and refresh tokens. */
export function registerTokenRoutes(app: FastifyInstance, engine: SimulatorEngine): void {
  app.post('/oauth/token', (request, reply) => {
    const body = request.body;
    const authorization = headerValue(request, 'authorization');
    let client = engine.tokens.authenticateClient(authorization);
    // OAuth also allows client credentials in the form body.
    const bodyId = formValue(body, 'client_id');
    const bodySecret = formValue(body, 'client_secret');
    if (
      client === undefined &&
      authorization === undefined &&
      bodyId !== undefined &&
      bodySecret !== undefined
    ) {
      client = engine.tokens.authenticateClient(
        `Basic ${Buffer.from(`${bodyId}:${bodySecret}`).toString('base64')}`,
      );
    }
    if (client === undefined) throw new OAuthError(401, 'invalid_client', 'Invalid client credentials.');
    const grantType = formValue(body, 'grant_type');
    const redirectUris = formValues(body, 'redirect_uri');
    if (redirectUris.length > 1)
      throw new OAuthError(400, 'invalid_request', 'redirect_uri is given more than once.');
    const tokens =
      grantType === 'authorization_code'
        ? engine.tokens.exchangeCode(client, formValue(body, 'code'), redirectUris[0])
        : grantType === 'refresh_token'
          ? engine.tokens.refresh(client, formValue(body, 'refresh_token'))
          : undefined;
    if (tokens === undefined) {
      throw new OAuthError(
        400,
        'unsupported_grant_type',
        'grant_type must be authorization_code or refresh_token.',
      );
    }
    return reply
      .code(200)
      .header('content-type', 'application/json; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('sc-request-id', request.id)
      .send(JSON.stringify(tokens));
  });
}
