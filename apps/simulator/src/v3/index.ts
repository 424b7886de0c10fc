import type { SimulatorEngine } from '../engine.ts';
import { ApplicationTokens } from './access.ts';
import { V3Webhooks, type V3WebhookOptions } from './webhooks.ts';

export { registerV3Routes, type V3RouteDeps } from './routes.ts';
export { ApplicationTokens, APPLICATION_TOKEN_TTL_MS } from './access.ts';
export {
  MAX_DELIVERY_RETRIES,
  V3Webhooks,
  type V3DeliveryAttempt,
  type V3WebhookOptions,
  type V3WebhookRecord,
} from './webhooks.ts';
export { signalCodesFor } from './signal-values.ts';

/** Everything the v3 API keeps beside the engine: application tokens and v3 webhooks. */
export interface V3Platform {
  readonly tokens: ApplicationTokens;
  readonly webhooks: V3Webhooks;
}

export function createV3Platform(engine: SimulatorEngine, options: V3WebhookOptions = {}): V3Platform {
  return { tokens: new ApplicationTokens(engine), webhooks: new V3Webhooks(engine, options) };
}
