/**
 * The scope catalog, the endpoint → scope map and permission helpers for checks and the consent flow.
 * @module
 */
export {
  ALL_SCOPES,
  type DataPath,
  type EndpointDefinition,
  type EndpointKind,
  type HttpMethod,
  normalizeVehiclePath,
  SCOPE_CATALOG,
  type Scope,
  scopeForRequest,
  type ScopeOf,
  VEHICLE_ENDPOINTS,
  type VehicleEndpointName,
} from './catalog.ts';
export {
  assertAllowed,
  assertEndpoint,
  assertScopes,
  checkEndpoint,
  checkRequest,
  checkScopes,
  formatScopeParam,
  isScope,
  missingScopeError,
  missingScopes,
  type ParsedScope,
  parseScope,
  parseScopeList,
  type PermissionCheck,
  REQUIRED_PREFIX,
} from './check.ts';
export { type ConsentScopes, type Feature, FEATURES, scopesForFeatures } from './features.ts';
