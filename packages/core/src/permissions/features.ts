import type { Scope } from './catalog.ts';
import { formatScopeParam } from './check.ts';

/**
 * Product features and the scopes they need: `required` for the feature to work at all, `optional` for
 * extras it can do without (shown to the owner as optional in Connect).
 */
export const FEATURES = {
  'vehicle-info': { required: ['read_vehicle_info'], optional: [] },
  vin: { required: ['read_vin'], optional: [] },
  location: { required: ['read_location'], optional: [] },
  odometer: { required: ['read_odometer'], optional: [] },
  battery: { required: ['read_battery'], optional: [] },
  'charging-status': { required: ['read_charge'], optional: ['read_battery'] },
  'charging-control': { required: ['control_charge', 'read_charge'], optional: ['read_battery'] },
  'charge-records': { required: ['read_charge_records'], optional: [] },
  fuel: { required: ['read_fuel'], optional: [] },
  tires: { required: ['read_tires'], optional: [] },
  'engine-oil': { required: ['read_engine_oil'], optional: [] },
  'security-status': { required: ['read_security'], optional: [] },
  'lock-control': { required: ['control_security'], optional: ['read_security'] },
  navigation: { required: ['control_navigation'], optional: ['read_location'] },
  diagnostics: { required: ['read_diagnostics'], optional: [] },
  'service-history': { required: ['read_service_history'], optional: [] },
  climate: { required: ['read_climate'], optional: ['control_climate'] },
} as const;

export type Feature = keyof typeof FEATURES;

/** Scopes to request in Connect for a set of features. */
export interface ConsentScopes {
  required: Scope[];
  optional: Scope[];
  /** Ready for the Connect `scope` parameter: `required:read_battery read_charge …`. */
  scopeParam: string;
}

/**
 * Which scopes to ask for: those `required` by the wanted features are mandatory; the features' optional
 * scopes and every scope of `optionalFeatures` are optional. A scope needed by any required feature is required.
 */
export function scopesForFeatures(
  features: readonly Feature[],
  optionalFeatures: readonly Feature[] = [],
): ConsentScopes {
  const required = new Set<Scope>();
  const optional = new Set<Scope>();
  for (const feature of features) {
    FEATURES[feature].required.forEach((scope: Scope) => required.add(scope));
    FEATURES[feature].optional.forEach((scope: Scope) => optional.add(scope));
  }
  for (const feature of optionalFeatures) {
    FEATURES[feature].required.forEach((scope: Scope) => optional.add(scope));
    FEATURES[feature].optional.forEach((scope: Scope) => optional.add(scope));
  }
  const requiredList = [...required];
  const optionalList = [...optional].filter((scope) => !required.has(scope));
  return {
    required: requiredList,
    optional: optionalList,
    scopeParam: formatScopeParam(requiredList, optionalList),
  };
}
