/**
 * A local, Smartcar-v2-compatible vehicle platform: start it in-process with `createSimulator()`.
 * @module
 */
export {
  createSimulator,
  DEMO_APP,
  type Simulator,
  type SimulatorClockControl,
  type SimulatorOptions,
} from './simulator.ts';
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
  type BrandSpec,
  type ModelSpec,
  type Powertrain,
  type Region,
} from './catalog/brands.ts';
export { signPayload } from './webhooks.ts';
