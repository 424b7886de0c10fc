import { randomUUID } from 'node:crypto';
import { VEHICLE_ENDPOINTS, type Scope, type VehicleEndpointName } from '@voltkit/core/permissions';
import { findBrand, type BrandSpec, type ModelSpec } from '../catalog/brands.ts';
import { parseScopeParam } from '../connect-rules.ts';
import type { AccountRecord, ConnectMode, GrantRecord, VehicleRecord } from '../state/records.ts';
import type { SimulatorStore } from '../state/store.ts';
import { redirectUriAllowed } from './redirect-uri.ts';
import type { TokenService } from './tokens.ts';

/** What consent needs from the rest of the engine: sign-in and the catalog model of a vehicle. */
export interface ConsentHost {
  readonly store: SimulatorStore;
  now(): number;
  signIn(input: {
    email: string;
    password: string;
    mode: ConnectMode;
    brand: BrandSpec;
  }): { ok: true; account: AccountRecord } | { ok: false; message: string };
  specOf(vehicle: VehicleRecord): ModelSpec;
}

const ENDPOINTS_BY_SCOPE: ReadonlyMap<string, readonly VehicleEndpointName[]> = (() => {
  const map = new Map<string, VehicleEndpointName[]>();
  for (const [name, definition] of Object.entries(VEHICLE_ENDPOINTS)) {
    if (definition.scope === null) continue;
    const list = map.get(definition.scope) ?? [];
    list.push(name as VehicleEndpointName);
    map.set(definition.scope, list);
  }
  return map;
})();

/**
 * Whether a model serves a scope: it answers at least one endpoint that needs it. A scope that no vehicle
 * endpoint of the simulator needs (read_user_profile, read_climate, …) is not checked.
 */
export function modelServesScope(spec: ModelSpec, scope: string): boolean {
  const endpoints = ENDPOINTS_BY_SCOPE.get(scope);
  return endpoints === undefined || endpoints.some((name) => spec.capabilities.has(name));
}

/**
 * Whether `required:` scopes are checked against the vehicle. Smartcar's older test mode answers every
 * permission with random data (its own end-to-end suite connects a Kia EV with `required:read_fuel`), so
 * only live and simulated Connect refuse a vehicle that cannot serve a required scope.
 */
export function enforcesRequiredScopes(mode: ConnectMode): boolean {
  return mode !== 'test';
}

export class ConsentRefused extends Error {
  override name = 'ConsentRefused';
  readonly error: 'vehicle_incompatible' | 'no_vehicles';
  readonly vehicle: VehicleRecord | undefined;
  constructor(error: ConsentRefused['error'], message: string, vehicle?: VehicleRecord) {
    super(message);
    this.error = error;
    this.vehicle = vehicle;
  }
}

/** Grants: what an owner approved for an app, and the codes that hand it over. */
export class ConsentService {
  readonly #host: ConsentHost;
  readonly #tokens: TokenService;

  constructor(host: ConsentHost, tokens: TokenService) {
    this.#host = host;
    this.#tokens = tokens;
  }

  grantOf(clientId: string, userId: string): GrantRecord | undefined {
    for (const grant of this.#host.store.grants.values())
      if (grant.clientId === clientId && grant.userId === userId) return grant;
    return undefined;
  }

  /** Vehicles able to serve every required scope (all of them when the mode does not check). */
  compatibleVehicles(
    vehicles: readonly VehicleRecord[],
    required: readonly string[],
    mode: ConnectMode,
  ): VehicleRecord[] {
    if (!enforcesRequiredScopes(mode) || required.length === 0) return [...vehicles];
    return vehicles.filter((vehicle) => {
      const spec = this.#host.specOf(vehicle);
      return required.every((scope) => modelServesScope(spec, scope));
    });
  }

  /**
   * The existing grant covers this request (same mode, every requested scope, vehicles among those
   * offered): Connect with `approval_prompt=auto` then skips the consent page.
   */
  coveredBy(input: {
    clientId: string;
    userId: string;
    mode: ConnectMode;
    scopes: readonly string[];
    offered: readonly string[];
  }): { grant: GrantRecord; vehicleIds: string[] } | undefined {
    const grant = this.grantOf(input.clientId, input.userId);
    if (grant === undefined || grant.mode !== input.mode) return undefined;
    if (!input.scopes.every((scope) => grant.scopes.includes(scope))) return undefined;
    const vehicleIds = grant.vehicles.map((v) => v.vehicleId).filter((id) => input.offered.includes(id));
    return vehicleIds.length === 0 ? undefined : { grant, vehicleIds };
  }

  /** Records the owner's approval and returns a single-use authorization code. */
  approve(input: {
    clientId: string;
    userId: string;
    vehicleIds: readonly string[];
    scopes: readonly string[];
    redirectUri: string;
    mode: ConnectMode;
  }): string {
    const now = this.#host.now();
    const store = this.#host.store;
    let grant = this.grantOf(input.clientId, input.userId);
    if (grant === undefined) {
      grant = {
        id: randomUUID(),
        clientId: input.clientId,
        userId: input.userId,
        mode: input.mode,
        scopes: [],
        vehicles: [],
      };
      store.grants.set(grant.id, grant);
    }
    grant.scopes = [...input.scopes];
    grant.mode = input.mode;
    for (const vehicleId of input.vehicleIds) {
      if (!grant.vehicles.some((v) => v.vehicleId === vehicleId))
        grant.vehicles.push({ vehicleId, connectedAt: now });
    }
    store.changed();
    return this.#tokens.issueCode({
      clientId: input.clientId,
      redirectUri: input.redirectUri,
      grantId: grant.id,
    });
  }

  /**
   * Programmatic Connect: signs in (creating the test account as needed), selects the account's
   * vehicles of `make` that serve the required scopes and approves `scope`. The fast path for tests.
   */
  authorize(input: {
    clientId: string;
    redirectUri?: string | undefined;
    scope: string | readonly string[];
    email: string;
    make?: string | undefined;
    mode?: ConnectMode | undefined;
    password?: string | undefined;
  }): { code: string; userId: string; vehicleIds: string[] } {
    const store = this.#host.store;
    const app = store.apps.get(input.clientId);
    if (app === undefined) throw new Error('unknown client id');
    const redirectUri = input.redirectUri ?? '';
    if (redirectUri !== '' && !redirectUriAllowed(app.redirectUris, redirectUri)) {
      throw new Error('redirect URI is not registered for this app');
    }
    const parsed = parseScopeParam(typeof input.scope === 'string' ? input.scope : input.scope.join(' '));
    if ('unknown' in parsed) throw new Error(`unknown scopes: ${parsed.unknown.join(', ')}`);
    const brand = findBrand(input.make ?? 'TESLA');
    if (brand === undefined) throw new Error(`unknown brand: ${input.make ?? ''}`);
    const mode = input.mode ?? 'simulated';
    const signedIn = this.#host.signIn({ email: input.email, password: input.password ?? '', mode, brand });
    if (!signedIn.ok) throw new Error(signedIn.message);
    const ofBrand = store.vehiclesOfAccount(signedIn.account.id).filter((v) => v.make === brand.make);
    if (ofBrand.length === 0) throw new Error('the account has no vehicle of this brand');
    const vehicles = this.compatibleVehicles(ofBrand, parsed.required, mode);
    if (vehicles.length === 0) {
      const first = ofBrand[0];
      throw new ConsentRefused(
        'vehicle_incompatible',
        `vehicle_incompatible: the ${first?.year ?? ''} ${brand.make} ${first?.model ?? ''} cannot serve ${parsed.required.join(', ')}`,
        first,
      );
    }
    const vehicleIds = vehicles.map((v) => v.id);
    const code = this.approve({
      clientId: app.clientId,
      userId: signedIn.account.id,
      vehicleIds,
      scopes: parsed.scopes satisfies Scope[],
      redirectUri,
      mode,
    });
    return { code, userId: signedIn.account.id, vehicleIds };
  }
}
