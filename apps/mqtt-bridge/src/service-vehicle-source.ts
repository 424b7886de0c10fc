import type { SmartChargingLink } from './smart-charging-link.ts';
import { SmartChargingLinkError } from './smart-charging-link.ts';
import { VehicleSourceError } from './vehicle-source.ts';
import type { ReadResult, VehicleField, VehiclePush, VehicleSource } from './vehicle-source.ts';

/**
 * The cars of the smart-charging service, for a bridge that runs apart from it. The car's tokens stay in
 * the service (encrypted at rest); the bridge never sees them. It lists the service's cars (a car linked
 * once, in the service, appears here too) and shows what the service last read: battery, plug, charge
 * state and limit. It never asks the vehicle API itself, so the cars are not read twice; `refresh()`
 * (called by the bridge's smart-charging poll) pushes each car whose service read is newer.
 *
 * Charging is controlled through smart charging (mode, charge now), not by direct commands: the service's
 * API has none, by design.
 */
export interface ServiceVehicleSource extends VehicleSource {
  /** Reads the service's vehicle list once and pushes cars whose state the service read again since. */
  refresh(): Promise<void>;
}

export function createServiceVehicleSource(link: SmartChargingLink): ServiceVehicleSource {
  const listeners = new Set<(push: VehiclePush) => void>();
  const seenReadAt = new Map<string, number>();

  const toSourceError = (error: unknown): VehicleSourceError => {
    if (error instanceof VehicleSourceError) return error;
    if (error instanceof SmartChargingLinkError) {
      if (error.code === 'NOT_FOUND') return new VehicleSourceError('unavailable', error.message);
      // The service is this bridge's vehicle API: unreachable or refusing the token, every car is affected.
      return new VehicleSourceError('unavailable', error.message, { apiDown: true });
    }
    return new VehicleSourceError('unavailable', (error as Error).message, { apiDown: true });
  };

  return {
    async listVehicles() {
      try {
        return (await link.vehicles()).map((vehicle) => vehicle.info);
      } catch (error) {
        throw toSourceError(error);
      }
    },
    async read(vehicleId, fields): Promise<ReadResult> {
      let vehicle;
      try {
        vehicle = await link.vehicle(vehicleId);
      } catch (error) {
        throw toSourceError(error);
      }
      if (!vehicle.grantActive)
        throw new VehicleSourceError(
          'unavailable',
          'the car’s link in the smart-charging service is not active (revoked or expired): reconnect it there',
        );
      if (vehicle.readAt === undefined)
        throw new VehicleSourceError('unavailable', 'the smart-charging service has not read this car yet');
      seenReadAt.set(vehicleId, vehicle.readAt.getTime());
      const recordedAt = new Map<VehicleField, Date>(fields.map((field) => [field, vehicle.readAt!]));
      // No request against the vehicle API (the daily budget counts those): the service already read it.
      return { reading: vehicle.reading, errors: new Map(), requestCount: 0, recordedAt };
    },
    command(_vehicleId, command) {
      const what =
        command.kind === 'startCharge' || command.kind === 'stopCharge'
          ? 'set the smart charging mode to "now" to charge, or "smart" to let the plan decide'
          : 'the service changes charge limits itself, as its plan needs';
      return Promise.reject(
        new VehicleSourceError(
          'rejected',
          `the smart-charging service sends no direct ${command.kind} commands: ${what}`,
        ),
      );
    },
    async checkApi() {
      try {
        await link.vehicles();
      } catch (error) {
        throw toSourceError(error);
      }
    },
    onPush(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async refresh() {
      const vehicles = await link.vehicles();
      for (const vehicle of vehicles) {
        const readAt = vehicle.readAt?.getTime();
        if (readAt === undefined || !vehicle.grantActive) continue;
        const seen = seenReadAt.get(vehicle.info.id);
        if (seen !== undefined && seen >= readAt) continue;
        seenReadAt.set(vehicle.info.id, readAt);
        if (seen === undefined) continue; // first sight: the bridge's own first read covers it
        for (const listener of listeners)
          listener({
            vehicleId: vehicle.info.id,
            reading: { ...vehicle.reading, dataAge: vehicle.readAt! },
          });
      }
    },
  };
}
