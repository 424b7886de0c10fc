/**
 * The HTTP client: Connect URLs, tokens, vehicle handles, app-level calls and webhook helpers.
 * @module
 */
export {
  type AuthUrlOptions,
  type CallbackResult,
  type Flags,
  formatFlags,
  parseCallback,
  type ScopeRequest,
} from './auth.ts';
export {
  type ClientOptions,
  type CompatibilityMatrixOptions,
  type CompatibilityOptions,
  type ConnectionsFilter,
  createClient,
  DEFAULT_ORIGINS,
  type ExchangeOptions,
  type Grant,
  type Origins,
  type VehicleHandleOptions,
  type VoltkitClient,
} from './client.ts';
export { type FetchLike, type RetryOptions } from './http.ts';
export { fileTokenStore, memoryTokenStore, type TokenStore } from './token-store.ts';
export {
  type AllowedMethod,
  type BatchItem,
  type BatchPath,
  type BatchResult,
  type CallOptions,
  ENDPOINT_SCHEMAS,
  type RawRequestOptions,
  type ReadOptions,
  type ResponseForPath,
  type Returned,
  type ServiceHistoryOptions,
  type VehicleHandle,
  type VehicleHandleBase,
  type VehicleMethods,
  type VehicleResponses,
} from './vehicle.ts';
export {
  answerChallenge,
  hashChallenge,
  parseWebhook,
  parseWebhookPayload,
  verifyPayload,
  verifySignature,
} from '../webhooks/webhooks.ts';
export { type AnyVoltkitError, isVoltkitError, VoltkitError, type VoltkitErrorType } from '../errors.ts';
export type { Access } from '../types/auth.ts';
