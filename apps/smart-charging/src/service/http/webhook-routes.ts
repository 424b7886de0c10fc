import type { FastifyInstance } from 'fastify';
import type { SmartChargingService } from '../smart-charging-service.ts';
import {
  defineRoute,
  problem,
  registerApiRoutes,
  type ApiRoute,
  type RegisterRoutesOptions,
} from './api-route.ts';

/** Where the vehicle API delivers webhooks (register this URL with Smartcar, or with the simulator). */
export const WEBHOOK_PATH = '/webhooks/smartcar';

/**
 * The webhook receiver. It is `public` to the session/token check because the vehicle API signs instead:
 * the handler refuses (401) anything whose SC-Signature is not the HMAC of the raw body, before reading it.
 */
export function createWebhookRoutes(service: SmartChargingService): ApiRoute[] {
  return [
    defineRoute({
      method: 'POST',
      url: WEBHOOK_PATH,
      tag: 'webhooks',
      summary:
        'Vehicle API webhooks (v2 and v3): the verification challenge, pushed states; authenticated by SC-Signature (HMAC-SHA256 with the application management token)',
      access: 'public',
      async handler({ request, reply }) {
        const receiver = service.webhooks;
        if (receiver === undefined)
          return reply
            .status(404)
            .send(problem(404, 'webhooks are not configured here (set SMARTCAR_MANAGEMENT_TOKEN)'));
        const raw = typeof request.body === 'string' ? request.body : '';
        const signature = request.headers['sc-signature'];
        const answer = await receiver.receive(raw, Array.isArray(signature) ? undefined : signature);
        if (answer.status === 200) return reply.status(200).send(answer.body);
        if (answer.status === 204) return reply.status(204).send();
        return reply.status(answer.status).send(problem(answer.status, answer.message));
      },
    }),
  ];
}

/**
 * Registers the webhook routes in a scope of their own whose JSON bodies stay raw text: the signature is
 * over the exact bytes sent, which a parsed and re-serialised body would not reproduce.
 */
export async function registerWebhookRoutes(
  app: FastifyInstance,
  routes: readonly ApiRoute[],
  options: RegisterRoutesOptions,
): Promise<void> {
  await app.register((scope, _options, done) => {
    scope.removeContentTypeParser(['application/json']);
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, parsed) =>
      parsed(null, body),
    );
    registerApiRoutes(scope, routes, options);
    done();
  });
}
