/**
 * A local, Smartcar-compatible vehicle platform (v2.0 and Vehicle API v3): start it in-process with `createSimulator()`.
 * @module
 */
export {
  createSimulator,
  DEMO_APP,
  type Simulator,
  type SimulatorClockControl,
  type SimulatorOptions,
  type SimulatorV3,
} from './simulator.ts';
export { signalCodesFor, type V3DeliveryAttempt, type V3WebhookRecord } from './v3/index.ts';
export type { ClockOptions } from './clock.ts';
export type { RegisteredApp, TestAccount, VehiclePatch, VehicleSummary } from './engine.ts';
export type { RateLimit, RateLimits } from './rate-limit.ts';
export type {
  ConnectMode,
  ForcedError,
  VehicleRecord,
  VehicleState,
  WebhookRecord,
} from './state/records.ts';
export {
  BRANDS,
  findBrand,
  findModel,
  type BrandSpec,
  type ModelSpec,
  type Powertrain,
  type Region,
} from './catalog/brands.ts';
export { signPayload } from './webhooks/signing.ts';
