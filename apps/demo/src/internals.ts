/**
 * The one place where the demo reaches into other apps' source. `@voltkit/smart-charging` exports only
 * `./planner` and `@voltkit/mqtt-bridge` does not export its core-backed vehicle source, so until their
 * `exports` maps grow these entries (see the README, "Needs from other packages"), the demo imports them
 * by relative path here and nowhere else.
 */
export {
  createSmartChargingService,
  type SmartChargingService,
} from '../../smart-charging/src/service/smart-charging-service.ts';
export { loadServiceConfig, ConfigError as ServiceConfigError } from '../../smart-charging/src/service/config.ts';
export type { ServiceConfig } from '../../smart-charging/src/service/config.ts';
export type { DashboardData } from '../../smart-charging/src/service/http/dashboard-data.ts';
export { renderDashboardPage } from '../../smart-charging/src/service/http/dashboard-page.ts';
export { openSqlClient, type SqlClient } from '../../smart-charging/src/store/sql-client.ts';
export { migrate } from '../../smart-charging/src/store/migrations.ts';
export { listGrants, sqlTokenStore } from '../../smart-charging/src/store/grants.ts';
export { saveGridSettings } from '../../smart-charging/src/store/grid.ts';
export { DEFAULT_PREFERENCES, savePreferences } from '../../smart-charging/src/store/preferences.ts';
export { listCommands } from '../../smart-charging/src/store/command-log.ts';
export { loadPrices } from '../../smart-charging/src/store/prices.ts';
export { listVehicles } from '../../smart-charging/src/store/vehicles.ts';
export { createCoreVehicleSource } from '../../mqtt-bridge/src/core-vehicle-source.ts';
