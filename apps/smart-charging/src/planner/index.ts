/**
 * @voltkit/smart-charging/planner — pure charging planner: tariffs, grid headroom and vehicles in,
 * an exact plan out (no I/O). See plan.ts for the objectives and fleet-solver.ts for the method.
 */
export {
  OBJECTIVES,
  PlanInputError,
  PlanRequestSchema,
  createPlan,
  createPlanningContext,
  horizonGrid,
  lpObjective,
  optimise,
  parsePlanRequest,
} from './plan.ts';
export type {
  Objective,
  Plan,
  PlanOptions,
  PlanRequest,
  PlanRequestInput,
  PlanSlot,
  PlanSummary,
  PlanningContext,
  ShortfallCause,
  VehiclePlan,
} from './plan.ts';
export { solveFleet } from './fleet-solver.ts';
export type { FleetProblem, FleetSolution, SolveOptions } from './fleet-solver.ts';
export { prepareFleet } from './fleet-problem.ts';
export type { PreparedFleet, VehicleSetup } from './fleet-problem.ts';
export { TripSchema, VehicleSchema, requestedTargetSocPercent, taperPowerKw } from './vehicle.ts';
export type { Vehicle, VehicleInput } from './vehicle.ts';
export { issuesFromZod } from './errors.ts';
export type { PlanInputErrorCode, PlanInputIssue } from './errors.ts';
export { hardLimitHeadroomKw, highestMinuteDrawKw, laneSchedule } from './hard-limit.ts';
export type { OnInterval } from './hard-limit.ts';
export { parsePvForecastCsv } from './pv-forecast.ts';
export { SCENARIO_SCHEMA_ID, scenarioJsonSchema } from './scenario-schema.ts';
export {
  CurrencySchema,
  DynamicTariffSchema,
  FixedTariffSchema,
  TariffSchema,
  TouTariffSchema,
  parseTouTariffJson,
  priceSlots,
} from './tariff.ts';
export type { GapPolicy, PriceAssumption, PricePoint, SlotPrices, Tariff, TariffInput } from './tariff.ts';
export {
  PriceImportError,
  csvCurrency,
  currencyOfUnit,
  entsoeCurrency,
  parseAwattarJson,
  parseEntsoeXml,
  parseOctopusAgileJson,
  parsePriceCsv,
} from './price-import.ts';
export { GridError, GridSchema, gridSlots } from './grid.ts';
export type { Grid, GridInput, GridSlots } from './grid.ts';
export { LoadProfileError, parseBdewProfileCsv, profilePowerKw } from './load-profile.ts';
export type { LoadProfile } from './load-profile.ts';
export {
  SLOT_MINUTES,
  createDayGrid,
  createSlotGrid,
  formatZoned,
  localTime,
  parseInstant,
  zoneOffsetMinutes,
  zonedTimeToEpochMs,
} from './time-grid.ts';
export type { SlotGrid, SlotMinutes } from './time-grid.ts';
export { ChargingProfileError, MAX_SCHEDULE_PERIODS, toChargingProfile } from './ocpp.ts';
export type {
  ChargingProfile,
  ChargingProfileOptions,
  ChargingProfilePurpose,
  ChargingRateUnit,
  ChargingSchedule,
  ChargingSchedulePeriod,
} from './ocpp.ts';
export {
  PRICE_FORMATS,
  ScenarioError,
  ScenarioSchema,
  parseAcnSessionsCsv,
  parsePrices,
  parseScenario,
  priceFileCurrency,
  resolveScenario,
} from './scenario.ts';
export type { Scenario } from './scenario.ts';
export { formatPlanReport, planToCsv } from './report.ts';
export { renderPlanSvg } from './plan-chart.ts';
