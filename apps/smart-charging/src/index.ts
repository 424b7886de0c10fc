export { ConfigError, DEFAULT_PRICE_FILE, loadServiceConfig, ServiceEnvSchema } from './service/config.ts';
export type { ServiceConfig, ServiceEnv } from './service/config.ts';
export { createSmartChargingService } from './service/smart-charging-service.ts';
export type {
  ReplanReport,
  SmartChargingService,
  SmartChargingServiceOptions,
  StoredPlanBody,
} from './service/smart-charging-service.ts';
export { createHttpServer, registerSmartChargingHttp } from './service/http/http-server.ts';
export type { HttpServerOptions, SmartChargingHttp } from './service/http/http-server.ts';
export { CommandViewSchema, VehicleViewSchema } from './service/http/api-routes.ts';
export type { VehicleView } from './service/http/api-routes.ts';
export { DashboardDataSchema } from './service/http/dashboard-data.ts';
export type { DashboardData } from './service/http/dashboard-data.ts';
export { loadBdewProfile, startSmartCharging } from './service/start-app.ts';
export type { RunningSmartCharging, StartOptions } from './service/start-app.ts';
export { openSqlClient } from './store/sql-client.ts';
export type { SqlClient } from './store/sql-client.ts';
export { migrate } from './store/migrations.ts';
export { sqlTokenStore } from './store/grants.ts';
export { createTokenCipher, parseTokenKeys } from './store/token-cipher.ts';
export type { TokenCipher, TokenKey } from './store/token-cipher.ts';
export { loadTokenCipher } from './service/token-keys.ts';
export { createLoginCode, createOperatorToken } from './service/auth/identity.ts';
export type { Principal } from './service/auth/identity.ts';
export { findGrant } from './store/grants.ts';
export { MeSchema } from './service/http/auth-routes.ts';
export type { Me } from './service/http/auth-routes.ts';
