import type { VoltkitClient } from '@voltkit/core/client';
import { missingScopes, type Scope } from '@voltkit/core/permissions';
import { consumeConnectState, insertConnectState } from '../store/connect-states.ts';
import {
  assignGrantOwner,
  createUnclaimedGrant,
  deleteGrant,
  findGrant,
  findOwner,
  ownerForSmartcarUser,
  updateGrantScopes,
} from '../store/grants.ts';
import type { SqlClient } from '../store/sql-client.ts';
import { findVehicle, saveVehicle, type VehicleRecord } from '../store/vehicles.ts';
import { hashSecret, newSecret } from './auth/secrets.ts';
import { SMART_CHARGING_SCOPES } from './vehicle-gateway.ts';

export type ConnectMode = 'live' | 'simulated' | 'test';

/** How long a Connect link works (RFC 9700: short-lived state). */
export const CONNECT_STATE_TTL_MS = 10 * 60_000;

export interface EnrollmentResult {
  readonly grantId: string;
  /** The owner the Smartcar user is: the Connect flow signs them in. */
  readonly ownerId: string;
  readonly vehicles: readonly VehicleRecord[];
  /** Cars the user's tokens reach that stay with the other owner who linked them (and still has access). */
  readonly keptWithOtherOwner: readonly string[];
  /** Required scopes the owner did not grant; non-empty means the UI should offer to reconnect. */
  readonly missingScopes: readonly Scope[];
}

export type EnrollmentErrorCode =
  /** Unknown, used, expired, or started in another browser. */
  | 'STATE_REJECTED'
  /** A reconnect signed in as a different Smartcar user than the grant's owner. */
  | 'USER_MISMATCH';

export class EnrollmentError extends Error {
  override name = 'EnrollmentError';
  readonly code: EnrollmentErrorCode;
  constructor(code: EnrollmentErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export interface ConnectLink {
  readonly connectUrl: string;
  readonly expiresAt: Date;
}

export interface Enrollment {
  /**
   * A Connect link for an owner, bound to the browser that holds `browserBinding` (a secret in its
   * cookie); the link's `state` is random, single use and lives 10 minutes.
   */
  start(input: {
    readonly ownerName: string;
    readonly makeBypass?: string;
    readonly browserBinding: string;
  }): Promise<ConnectLink>;
  /** A Connect link that re-authorises an existing grant; only its own Smartcar user can complete it. */
  reconnect(grantId: string, browserBinding: string): Promise<ConnectLink>;
  /** Handles the OAuth callback from the browser holding `browserBinding`. */
  complete(callbackUrl: string | URL, browserBinding: string | undefined): Promise<EnrollmentResult>;
}

/** A fresh secret for the browser-binding cookie. */
export function newBrowserBinding(): string {
  return newSecret('vkc_');
}

export function createEnrollment(options: {
  readonly db: SqlClient;
  readonly client: VoltkitClient;
  readonly mode: ConnectMode;
  /** Wall clock for the state's lifetime (not the simulated clock of a demo). @default () => new Date() */
  readonly authNow?: () => Date;
}): Enrollment {
  const { db, client, mode } = options;
  const authNow = options.authNow ?? (() => new Date());
  const scope = {
    required: [...SMART_CHARGING_SCOPES.required],
    optional: [...SMART_CHARGING_SCOPES.optional],
  };

  async function link(input: {
    purpose: 'enroll' | 'reconnect';
    grantId: string | null;
    ownerName: string | null;
    makeBypass: string | null;
    browserBinding: string;
  }): Promise<ConnectLink> {
    const state = newSecret('');
    const expiresAt = new Date(authNow().getTime() + CONNECT_STATE_TTL_MS);
    await insertConnectState(db, {
      stateHash: hashSecret(state),
      browserBindingHash: hashSecret(input.browserBinding),
      purpose: input.purpose,
      grantId: input.grantId,
      ownerName: input.ownerName,
      makeBypass: input.makeBypass,
      expiresAt,
    });
    const connectUrl = client.getAuthUrl({
      scope,
      state,
      mode,
      forcePrompt: true,
      ...(input.makeBypass ? { makeBypass: input.makeBypass } : {}),
    });
    return { connectUrl, expiresAt };
  }

  /** Links the user's cars to the grant; a car another owner linked, with a grant that still works, stays. */
  async function linkVehicles(grantId: string, ownerId: string) {
    const grant = client.grant(grantId);
    const vehicles: VehicleRecord[] = [];
    const keptWithOtherOwner: string[] = [];
    let granted: Scope[] = [];
    for (const vehicleId of await grant.allVehicleIds()) {
      const existing = await findVehicle(db, vehicleId);
      if (existing && existing.grantId !== grantId) {
        const holder = await findGrant(db, existing.grantId);
        if (holder && holder.ownerId !== ownerId && holder.status === 'active') {
          keptWithOtherOwner.push(vehicleId);
          continue;
        }
      }
      const handle = await grant.vehicleFromPermissions(vehicleId);
      granted = [...handle.scopes];
      const attributes = handle.can('read_vehicle_info') ? await handle.attributes() : undefined;
      const record: VehicleRecord = {
        id: vehicleId,
        grantId,
        make: attributes?.make ?? 'UNKNOWN',
        model: attributes?.model ?? 'Unknown model',
        year: attributes?.year ?? 0,
        batteryCapacityKwh: handle.can('read_battery') ? await readCapacity(handle) : null,
      };
      await saveVehicle(db, record);
      vehicles.push(record);
    }
    await updateGrantScopes(db, grantId, granted);
    return { vehicles, keptWithOtherOwner, missingScopes: missingScopes(granted, scope.required) };
  }

  return {
    start: ({ ownerName, makeBypass, browserBinding }) =>
      link({ purpose: 'enroll', grantId: null, ownerName, makeBypass: makeBypass ?? null, browserBinding }),
    async reconnect(grantId, browserBinding) {
      if (!(await findGrant(db, grantId))) throw new Error(`no grant ${grantId}`);
      return link({ purpose: 'reconnect', grantId, ownerName: null, makeBypass: null, browserBinding });
    },
    async complete(callbackUrl, browserBinding) {
      const params = (
        typeof callbackUrl === 'string' ? new URL(callbackUrl, 'http://callback.invalid') : callbackUrl
      ).searchParams;
      const state = params.get('state');
      // Bound to the browser: the state is only found together with the cookie of the browser that started it.
      const flow =
        state && browserBinding
          ? await consumeConnectState(db, hashSecret(state), hashSecret(browserBinding), authNow())
          : undefined;
      if (!flow)
        throw new EnrollmentError(
          'STATE_REJECTED',
          'this Connect callback does not belong to a Connect flow started in this browser in the last 10 minutes (or it was used already)',
        );
      const { code } = client.parseCallback(callbackUrl); // throws the owner's "declined" as a VoltkitError

      // Exchange into a grant of its own, then ask the vehicle API whose tokens these are.
      const staging = await createUnclaimedGrant(db, scope.required);
      let smartcarUserId: string;
      let access;
      try {
        access = await client.exchangeCode(code, { grantId: staging });
        smartcarUserId = (await client.grant(staging).user()).id;
      } catch (error) {
        await deleteGrant(db, staging);
        throw error;
      }

      if (flow.purpose === 'reconnect' && flow.grantId !== null) {
        const target = await findGrant(db, flow.grantId);
        const owner = target?.ownerId ? await findOwner(db, target.ownerId) : undefined;
        if (!target || !owner || (owner.smartcarUserId !== null && owner.smartcarUserId !== smartcarUserId)) {
          // Another user's tokens never land on this grant; the ones just issued are dropped.
          await deleteGrant(db, staging);
          throw new EnrollmentError(
            'USER_MISMATCH',
            'the account that signed in is not the one this car connection belongs to; sign in with the owner’s account',
          );
        }
        if (owner.smartcarUserId === null) await ownerForSmartcarUser(db, smartcarUserId, owner.displayName);
        await client.importGrant(target.id, access);
        await deleteGrant(db, staging);
        const linked = await linkVehicles(target.id, owner.id);
        return { grantId: target.id, ownerId: owner.id, ...linked };
      }

      const owner = await ownerForSmartcarUser(db, smartcarUserId, flow.ownerName ?? 'Owner');
      await assignGrantOwner(db, staging, owner.id);
      const linked = await linkVehicles(staging, owner.id);
      return { grantId: staging, ownerId: owner.id, ...linked };
    },
  };
}

/** Nominal capacity where the make reports it, else the legacy capacity endpoint; null when neither works. */
async function readCapacity(handle: {
  nominalCapacity(): Promise<{ capacity: { nominal: number } | null }>;
  batteryCapacity(): Promise<{ capacity: number }>;
}): Promise<number | null> {
  try {
    const nominal = await handle.nominalCapacity();
    if (nominal.capacity) return nominal.capacity.nominal;
  } catch {
    // Not every make supports nominal capacity; fall through to the legacy endpoint.
  }
  try {
    return (await handle.batteryCapacity()).capacity;
  } catch {
    return null;
  }
}
