export { startBridge } from './bridge.ts';
export type { Bridge, BridgeOptions } from './bridge.ts';
export {
  BridgeConfigSchema,
  ConfigError,
  ENV_VARIABLES,
  haStatusTopic,
  loadConfig,
  parseConfig,
  redactConfig,
} from './config.ts';
export type { BridgeConfig, BridgeConfigInput } from './config.ts';
export { fileChargePlanSource } from './charge-plan-file.ts';
export { parseCommand } from './commands.ts';
export { CONNECT_SCOPES, startConnectPage, startServiceLinkPage } from './connect-page.ts';
export type { ConnectPage } from './connect-page.ts';
export { createCoreVehicleSource, toVehicleSourceError } from './core-vehicle-source.ts';
export type { CoreVehicleSource, CoreVehicleSourceOptions, WebhookReply } from './core-vehicle-source.ts';
export type { CommandResult, ParsedCommand, ParseResult } from './commands.ts';
export { buildBridgeDiscovery, buildComponentDiscovery, buildDeviceDiscovery, ORIGIN } from './discovery.ts';
export { ENTITY_CATALOG, entitiesFor } from './entities.ts';
export type { Activity, EntityDefinition } from './entities.ts';
export { startEmbeddedBroker } from './embedded-broker.ts';
export type { EmbeddedBroker } from './embedded-broker.ts';
export { fileGrantRegistry } from './grant-registry.ts';
export type { GrantRegistry } from './grant-registry.ts';
export { validateComponentDiscovery, validateDeviceDiscovery } from './ha-discovery-schema.ts';
export { createMqttConnection } from './mqtt-adapter.ts';
export type { MqttConnection, MqttMessage, PublishOptions } from './mqtt-adapter.ts';
export { createTopics } from './topics.ts';
export type { Topics } from './topics.ts';
export { isVehicleSourceError, VEHICLE_FIELDS, VehicleSourceError } from './vehicle-source.ts';
export type {
  ChargePlanSource,
  ChargePlanWindow,
  ReadResult,
  VehicleCommand,
  VehicleField,
  VehicleInfo,
  VehiclePush,
  VehicleReading,
  VehicleSource,
} from './vehicle-source.ts';
export { createServiceVehicleSource } from './service-vehicle-source.ts';
export type { ServiceVehicleSource } from './service-vehicle-source.ts';
export {
  createSmartChargingLink,
  httpTransport,
  nextChargeWindow,
  SMART_CHARGING_MODES,
  SmartChargingLinkError,
} from './smart-charging-link.ts';
export type {
  LinkedVehicle,
  PreferenceChange,
  ServiceTransport,
  SmartChargingLink,
  SmartChargingLinkErrorCode,
  SmartChargingMode,
  SmartChargingView,
} from './smart-charging-link.ts';
