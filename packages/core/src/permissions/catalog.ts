/**
 * The Smartcar v2.0 permission (scope) catalog and the map from vehicle endpoint to the scope it needs.
 * Both the client (checks before sending) and the simulator (checks on receipt) read these tables,
 * so there is exactly one place where "which scope unlocks what" is written down.
 */

/** Every permission a Connect grant can hold, with its one-line meaning shown to the owner. */
export const SCOPE_CATALOG = {
  read_alerts: 'Read vehicle alerts',
  read_battery: "Read the EV battery's charge level, range and capacity",
  read_charge: 'Read whether the vehicle is plugged in and charging, and its charge limit',
  read_charge_events: 'Receive notifications when charging starts, stops or completes',
  read_charge_locations: 'Read saved charging locations and their settings',
  read_charge_records: 'Read past charging sessions and their billing',
  read_climate: 'Read the climate system status and settings',
  read_compass: "Read the vehicle's heading",
  read_diagnostics: 'Read diagnostic system status and trouble codes',
  read_engine_oil: 'Read the remaining engine oil life',
  read_extended_vehicle_info: "Read the vehicle's configuration",
  read_fuel: 'Read the fuel tank level and range',
  read_location: "Read the vehicle's location",
  read_odometer: "Read the vehicle's odometer",
  read_security: 'Read whether doors, windows, storage and charging port are locked or open',
  read_service_history: 'Read dealer service records',
  read_speedometer: "Read the vehicle's speed",
  read_thermometer: 'Read inside and outside temperatures',
  read_tires: 'Read tire pressures',
  read_user_profile: "Read the account owner's email and phone number",
  read_vehicle_info: "Read the vehicle's make, model and year",
  read_vin: "Read the vehicle's VIN",
  control_charge: 'Start or stop charging and set the charge limit',
  control_climate: 'Change the climate settings',
  control_navigation: 'Send a destination to the navigation system',
  control_pin: 'Set or clear a PIN to drive',
  control_security: 'Lock or unlock the vehicle',
  control_trunk: 'Open the trunk or frunk',
} as const;

// Compile-time shape checks (kept apart: isolated declarations need the plain `as const` literals above).
const _catalogShape: Record<string, string> = SCOPE_CATALOG;

export type Scope = keyof typeof SCOPE_CATALOG;

export const ALL_SCOPES: readonly Scope[] = Object.keys(SCOPE_CATALOG) as Scope[];

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

/** How a vehicle endpoint behaves: `data` reads, `command` changes the car, `meta` is about the grant. */
export type EndpointKind = 'data' | 'command' | 'meta';

export interface EndpointDefinition {
  readonly method: HttpMethod;
  /** Path below `/v2.0/vehicles/{id}`; `''` is the vehicle itself. */
  readonly path: string;
  /** The scope the owner must have granted, or `null` when none is needed. */
  readonly scope: Scope | null;
  readonly kind: EndpointKind;
}

/** Every v2.0 vehicle endpoint, keyed by the method name the client exposes for it. */
export const VEHICLE_ENDPOINTS = {
  attributes: { method: 'GET', path: '', scope: 'read_vehicle_info', kind: 'data' },
  vin: { method: 'GET', path: '/vin', scope: 'read_vin', kind: 'data' },
  location: { method: 'GET', path: '/location', scope: 'read_location', kind: 'data' },
  odometer: { method: 'GET', path: '/odometer', scope: 'read_odometer', kind: 'data' },
  battery: { method: 'GET', path: '/battery', scope: 'read_battery', kind: 'data' },
  batteryCapacity: { method: 'GET', path: '/battery/capacity', scope: 'read_battery', kind: 'data' },
  nominalCapacity: { method: 'GET', path: '/battery/nominal_capacity', scope: 'read_battery', kind: 'data' },
  charge: { method: 'GET', path: '/charge', scope: 'read_charge', kind: 'data' },
  getChargeLimit: { method: 'GET', path: '/charge/limit', scope: 'read_charge', kind: 'data' },
  fuel: { method: 'GET', path: '/fuel', scope: 'read_fuel', kind: 'data' },
  tirePressure: { method: 'GET', path: '/tires/pressure', scope: 'read_tires', kind: 'data' },
  engineOil: { method: 'GET', path: '/engine/oil', scope: 'read_engine_oil', kind: 'data' },
  lockStatus: { method: 'GET', path: '/security', scope: 'read_security', kind: 'data' },
  diagnosticSystemStatus: {
    method: 'GET',
    path: '/diagnostics/system_status',
    scope: 'read_diagnostics',
    kind: 'data',
  },
  diagnosticTroubleCodes: {
    method: 'GET',
    path: '/diagnostics/dtcs',
    scope: 'read_diagnostics',
    kind: 'data',
  },
  serviceHistory: { method: 'GET', path: '/service/history', scope: 'read_service_history', kind: 'data' },
  permissions: { method: 'GET', path: '/permissions', scope: null, kind: 'meta' },
  lock: { method: 'POST', path: '/security', scope: 'control_security', kind: 'command' },
  unlock: { method: 'POST', path: '/security', scope: 'control_security', kind: 'command' },
  startCharge: { method: 'POST', path: '/charge', scope: 'control_charge', kind: 'command' },
  stopCharge: { method: 'POST', path: '/charge', scope: 'control_charge', kind: 'command' },
  setChargeLimit: { method: 'POST', path: '/charge/limit', scope: 'control_charge', kind: 'command' },
  sendDestination: {
    method: 'POST',
    path: '/navigation/destination',
    scope: 'control_navigation',
    kind: 'command',
  },
  disconnect: { method: 'DELETE', path: '/application', scope: null, kind: 'meta' },
  subscribe: { method: 'POST', path: '/webhooks/{webhookId}', scope: null, kind: 'meta' },
  unsubscribe: { method: 'DELETE', path: '/webhooks/{webhookId}', scope: null, kind: 'meta' },
  batch: { method: 'POST', path: '/batch', scope: null, kind: 'meta' },
} as const;

const _endpointShape: Record<string, EndpointDefinition> = VEHICLE_ENDPOINTS;

export type VehicleEndpointName = keyof typeof VEHICLE_ENDPOINTS;

/** The scope a vehicle endpoint needs, by method name. */
export type ScopeOf<TName extends VehicleEndpointName> = (typeof VEHICLE_ENDPOINTS)[TName]['scope'];

/** Path of a data endpoint (`/battery`, `/tires/pressure`, …) as used in batch requests. */
export type DataPath = {
  [K in VehicleEndpointName]: (typeof VEHICLE_ENDPOINTS)[K]['kind'] extends 'data'
    ? (typeof VEHICLE_ENDPOINTS)[K]['path'] extends ''
      ? '/'
      : (typeof VEHICLE_ENDPOINTS)[K]['path']
    : never;
}[VehicleEndpointName];

/**
 * The scope needed for a request, found by method and path below `/vehicles/{id}` (trailing slash and
 * query ignored). `undefined` means the path is not a known v2.0 vehicle endpoint.
 */
export function scopeForRequest(method: string, path: string): Scope | null | undefined {
  const normalized = normalizeVehiclePath(path);
  const upper = method.toUpperCase();
  for (const endpoint of Object.values(VEHICLE_ENDPOINTS) as EndpointDefinition[]) {
    if (endpoint.method !== upper) continue;
    if (matchesTemplate(endpoint.path, normalized)) return endpoint.scope;
  }
  return undefined;
}

/** `"/battery/"` → `"/battery"`, `"battery?x=1"` → `"/battery"`, `"/"` → `""`. */
export function normalizeVehiclePath(path: string): string {
  const withoutQuery = path.split('?')[0] ?? '';
  const trimmed = withoutQuery.replace(/\/+$/, '');
  if (trimmed === '') return '';
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

function matchesTemplate(template: string, path: string): boolean {
  if (!template.includes('{')) return template === path;
  const templateParts = template.split('/');
  const pathParts = path.split('/');
  if (templateParts.length !== pathParts.length) return false;
  return templateParts.every((part, i) => part.startsWith('{') || part === pathParts[i]);
}
