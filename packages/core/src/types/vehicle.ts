import { z } from 'zod';
import { type Paging, PagingSchema } from './common.ts';

const fraction = z.number().min(0).max(1);

/** `GET /vehicles` */
export interface VehicleList {
  paging: Paging;
  vehicles: string[];
}
export const VehicleListSchema: z.ZodType<VehicleList> = z.object({
  paging: PagingSchema,
  vehicles: z.array(z.string().min(1)),
});

/** `GET /user` */
export interface User {
  id: string;
}
export const UserSchema: z.ZodType<User> = z.object({ id: z.string().min(1) });

/** `GET /vehicles/{id}` — `make` is upper case (`TESLA`). */
export interface Attributes {
  id: string;
  make: string;
  model: string;
  year: number;
}
export const AttributesSchema: z.ZodType<Attributes, unknown> = z.object({
  id: z.string().min(1),
  make: z.string(),
  model: z.string(),
  // The docs' example sends the year as a string; the SDKs use a number. Accept both, return a number.
  year: z.union([
    z.number().int(),
    z
      .string()
      .regex(/^\d{4}$/)
      .transform(Number),
  ]),
});

/** `GET /vehicles/{id}/vin` */
export interface Vin {
  vin: string;
}
export const VinSchema: z.ZodType<Vin> = z.object({ vin: z.string().min(1) });

/** `GET /vehicles/{id}/location` (degrees) */
export interface Location {
  latitude: number;
  longitude: number;
}
export const LocationSchema: z.ZodType<Location> = z.object({
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
});

/** `GET /vehicles/{id}/odometer` (km or miles) */
export interface Odometer {
  distance: number;
}
export const OdometerSchema: z.ZodType<Odometer> = z.object({ distance: z.number() });

/** `GET /vehicles/{id}/battery` — `percentRemaining` is a fraction 0..1, `range` km or miles. */
export interface Battery {
  percentRemaining: number;
  range: number;
}
export const BatterySchema: z.ZodType<Battery> = z.object({ percentRemaining: fraction, range: z.number() });

/** `GET /vehicles/{id}/battery/capacity` (kWh) */
export interface BatteryCapacity {
  capacity: number;
}
export const BatteryCapacitySchema: z.ZodType<BatteryCapacity> = z.object({ capacity: z.number() });

/** `GET /vehicles/{id}/battery/nominal_capacity` */
export interface NominalCapacity {
  availableCapacities: { capacity: number; description: string | null }[];
  capacity: { nominal: number; source: 'USER_SELECTED' | 'SMARTCAR' } | null;
  url: string | null;
}
export const NominalCapacitySchema: z.ZodType<NominalCapacity> = z.object({
  availableCapacities: z.array(z.object({ capacity: z.number(), description: z.string().nullable() })),
  capacity: z.object({ nominal: z.number(), source: z.enum(['USER_SELECTED', 'SMARTCAR']) }).nullable(),
  url: z.string().nullable(),
});

export type ChargeState = 'CHARGING' | 'FULLY_CHARGED' | 'NOT_CHARGING';

/** `GET /vehicles/{id}/charge` */
export interface Charge {
  isPluggedIn: boolean;
  state: ChargeState;
}
export const ChargeSchema: z.ZodType<Charge> = z.object({
  isPluggedIn: z.boolean(),
  state: z.enum(['CHARGING', 'FULLY_CHARGED', 'NOT_CHARGING']),
});

/** `GET /vehicles/{id}/charge/limit` — fraction 0..1. */
export interface ChargeLimit {
  limit: number;
}
export const ChargeLimitSchema: z.ZodType<ChargeLimit> = z.object({ limit: fraction });

/** `POST /vehicles/{id}/charge/limit` body. The official Node SDK sends the limit as a string; accept both. */
export interface SetChargeLimitRequest {
  limit: number;
}
export const SetChargeLimitRequestSchema: z.ZodType<SetChargeLimitRequest, unknown> = z.object({
  limit: z
    .union([
      z.number(),
      z
        .string()
        .regex(/^\d*\.?\d+$/)
        .transform(Number),
    ])
    .pipe(z.number().min(0.5).max(1)),
});

/** `GET /vehicles/{id}/fuel` — any field may be `null` (some EU vehicles). */
export interface Fuel {
  amountRemaining: number | null;
  percentRemaining: number | null;
  range: number | null;
}
export const FuelSchema: z.ZodType<Fuel> = z.object({
  amountRemaining: z.number().nullable(),
  percentRemaining: fraction.nullable(),
  range: z.number().nullable(),
});

/** `GET /vehicles/{id}/tires/pressure` (kPa or psi) */
export interface TirePressure {
  frontLeft: number;
  frontRight: number;
  backLeft: number;
  backRight: number;
}
export const TirePressureSchema: z.ZodType<TirePressure> = z.object({
  frontLeft: z.number(),
  frontRight: z.number(),
  backLeft: z.number(),
  backRight: z.number(),
});

/** `GET /vehicles/{id}/engine/oil` — fraction 0..1, 1 = freshly changed. */
export interface EngineOil {
  lifeRemaining: number;
}
export const EngineOilSchema: z.ZodType<EngineOil> = z.object({ lifeRemaining: fraction });

export type OpenStatus = 'OPEN' | 'CLOSED' | 'UNKNOWN' | 'LOCKED';
export type DoorType = 'frontLeft' | 'frontRight' | 'backLeft' | 'backRight';

/** `GET /vehicles/{id}/security` — arrays are empty when the make only partly supports the feature. */
export interface LockStatus {
  isLocked: boolean;
  doors: { type: DoorType; status: OpenStatus }[];
  windows: { type: DoorType; status: OpenStatus }[];
  sunroof: { type: 'sunroof'; status: OpenStatus }[];
  storage: { type: 'front' | 'rear'; status: OpenStatus }[];
  chargingPort: { type: 'chargingPort'; status: OpenStatus }[];
}
const openStatus = z.enum(['OPEN', 'CLOSED', 'UNKNOWN', 'LOCKED']);
const doorType = z.enum(['frontLeft', 'frontRight', 'backLeft', 'backRight']);
export const LockStatusSchema: z.ZodType<LockStatus> = z.object({
  isLocked: z.boolean(),
  doors: z.array(z.object({ type: doorType, status: openStatus })),
  windows: z.array(z.object({ type: doorType, status: openStatus })),
  sunroof: z.array(z.object({ type: z.literal('sunroof'), status: openStatus })),
  storage: z.array(z.object({ type: z.enum(['front', 'rear']), status: openStatus })),
  chargingPort: z.array(z.object({ type: z.literal('chargingPort'), status: openStatus })),
});

/** `POST /vehicles/{id}/security` body. */
export interface SecurityActionRequest {
  action: 'LOCK' | 'UNLOCK';
}
export const SecurityActionRequestSchema: z.ZodType<SecurityActionRequest> = z.object({
  action: z.enum(['LOCK', 'UNLOCK']),
});

/** `POST /vehicles/{id}/charge` body. */
export interface ChargeActionRequest {
  action: 'START' | 'STOP';
}
export const ChargeActionRequestSchema: z.ZodType<ChargeActionRequest> = z.object({
  action: z.enum(['START', 'STOP']),
});

/** `POST /vehicles/{id}/navigation/destination` body. */
export interface NavigationDestinationRequest {
  latitude: number;
  longitude: number;
}
export const NavigationDestinationRequestSchema: z.ZodType<NavigationDestinationRequest> = z.object({
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
});

/** `GET /vehicles/{id}/diagnostics/system_status` */
export interface DiagnosticSystemStatus {
  systems: { systemId: string; status: 'OK' | 'ALERT'; description: string | null }[];
}
export const DiagnosticSystemStatusSchema: z.ZodType<DiagnosticSystemStatus> = z.object({
  systems: z.array(
    z.object({ systemId: z.string(), status: z.enum(['OK', 'ALERT']), description: z.string().nullable() }),
  ),
});

/** `GET /vehicles/{id}/diagnostics/dtcs` */
export interface DiagnosticTroubleCodes {
  activeCodes: { code: string; timestamp: string | null }[];
}
export const DiagnosticTroubleCodesSchema: z.ZodType<DiagnosticTroubleCodes> = z.object({
  activeCodes: z.array(z.object({ code: z.string(), timestamp: z.string().nullable() })),
});

/** One record of `GET /vehicles/{id}/service/history` (superset of what docs and SDKs show). */
export interface ServiceRecord {
  serviceId: string | number | null;
  serviceDate: string;
  odometerDistance: number | null;
  serviceTasks: { taskId: string | number | null; taskDescription: string | null }[];
  serviceDetails: { type: string; value?: string | null | undefined }[];
  serviceCost: { totalCost: number | null; currency: string | null } | null;
}
export const ServiceRecordSchema: z.ZodType<ServiceRecord> = z.object({
  serviceId: z.union([z.string(), z.number()]).nullable(),
  serviceDate: z.string(),
  odometerDistance: z.number().nullable(),
  serviceTasks: z.array(
    z.object({
      taskId: z.union([z.string(), z.number()]).nullable(),
      taskDescription: z.string().nullable(),
    }),
  ),
  serviceDetails: z.array(z.object({ type: z.string(), value: z.string().nullable().optional() })),
  serviceCost: z.object({ totalCost: z.number().nullable(), currency: z.string().nullable() }).nullable(),
});

/** `GET /vehicles/{id}/service/history` answers with a bare JSON array. */
export type ServiceHistory = ServiceRecord[];
export const ServiceHistorySchema: z.ZodType<ServiceHistory> = z.array(ServiceRecordSchema);

/** `GET /vehicles/{id}/permissions` — names come without the `required:` prefix. */
export interface Permissions {
  permissions: string[];
  paging: Paging;
}
export const PermissionsSchema: z.ZodType<Permissions> = z.object({
  permissions: z.array(z.string()),
  paging: PagingSchema,
});

/** `DELETE /vehicles/{id}/application` */
export interface Disconnect {
  status: 'success';
}
export const DisconnectSchema: z.ZodType<Disconnect> = z.object({ status: z.literal('success') });
