import type { VoltkitClient } from '@voltkit/core/client';
import { missingScopes, type Scope } from '@voltkit/core/permissions';
import type { SqlClient } from '../store/sql-client.ts';
import { createPendingGrant, findGrant, updateGrantScopes } from '../store/grants.ts';
import { saveVehicle, type VehicleRecord } from '../store/vehicles.ts';
import { SMART_CHARGING_SCOPES } from './vehicle-gateway.ts';

export type ConnectMode = 'live' | 'simulated' | 'test';

export interface EnrollmentResult {
  readonly grantId: string;
  readonly vehicles: readonly VehicleRecord[];
  /** Required scopes the owner did not grant; non-empty means the UI should offer to reconnect. */
  readonly missingScopes: readonly Scope[];
}

export interface Enrollment {
  /** A Connect link for a new owner; the pending grant's id travels as `state`. */
  start(input: {
    readonly ownerName: string;
    readonly makeBypass?: string;
  }): Promise<{ grantId: string; connectUrl: string }>;
  /** A Connect link that re-authorises an existing (revoked, expired or incomplete) grant. */
  reconnect(grantId: string): Promise<{ connectUrl: string }>;
  /** Handles the OAuth callback: exchanges the code, links the owner's vehicles, records the granted scopes. */
  complete(callbackUrl: string | URL): Promise<EnrollmentResult>;
}

export function createEnrollment(options: {
  readonly db: SqlClient;
  readonly client: VoltkitClient;
  readonly mode: ConnectMode;
}): Enrollment {
  const { db, client, mode } = options;
  const scope = {
    required: [...SMART_CHARGING_SCOPES.required],
    optional: [...SMART_CHARGING_SCOPES.optional],
  };

  const connectUrl = (grantId: string, makeBypass?: string) =>
    client.getAuthUrl({
      scope,
      state: grantId,
      mode,
      forcePrompt: true,
      ...(makeBypass ? { makeBypass } : {}),
    });

  return {
    async start({ ownerName, makeBypass }) {
      const { grantId } = await createPendingGrant(db, { ownerName, scopes: scope.required });
      return { grantId, connectUrl: connectUrl(grantId, makeBypass) };
    },
    async reconnect(grantId) {
      if (!(await findGrant(db, grantId))) throw new Error(`no grant ${grantId}`);
      return { connectUrl: connectUrl(grantId) };
    },
    async complete(callbackUrl) {
      const callback = client.parseCallback(callbackUrl);
      const grantId = callback.state;
      if (grantId === undefined || !(await findGrant(db, grantId))) {
        throw new Error('the Connect callback does not belong to an enrollment started here (unknown state)');
      }
      await client.exchangeCode(callback.code, { grantId });
      const grant = client.grant(grantId);
      const vehicles: VehicleRecord[] = [];
      let granted: Scope[] = [];
      for (const vehicleId of await grant.allVehicleIds()) {
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
      return { grantId, vehicles, missingScopes: missingScopes(granted, scope.required) };
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
