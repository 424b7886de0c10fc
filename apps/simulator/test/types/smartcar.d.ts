// Minimal typings for the parts of the official `smartcar` SDK (v10, plain JS) the tests call.
declare module 'smartcar' {
  export interface Meta {
    requestId?: string;
    dataAge?: Date;
    fetchedAt?: Date;
    unitSystem?: string;
  }
  export type WithMeta<T = Record<string, unknown>> = T & { meta: Meta };
  export interface Access {
    accessToken: string;
    refreshToken: string;
    expiration: Date;
    refreshExpiration: Date;
  }
  export class SmartcarError extends Error {
    statusCode: number;
    type?: string;
    code?: string;
    description?: string;
    docURL?: string;
    requestId?: string;
    retryAfter?: string;
    resolution?: { type: string | null };
    detail?: unknown;
  }
  export class AuthClient {
    constructor(options: {
      clientId?: string;
      clientSecret?: string;
      redirectUri?: string;
      mode?: 'live' | 'test' | 'simulated';
    });
    getAuthUrl(
      scope?: string[],
      options?: {
        forcePrompt?: boolean;
        state?: string;
        makeBypass?: string;
        singleSelect?: { enabled?: boolean; vin?: string };
        flags?: Record<string, string | boolean>;
        user?: string;
      },
    ): string;
    exchangeCode(code: string, options?: { flags?: Record<string, string | boolean> }): Promise<Access>;
    exchangeRefreshToken(
      token: string,
      options?: { flags?: Record<string, string | boolean> },
    ): Promise<Access>;
  }
  export class Vehicle {
    constructor(
      id: string,
      token: string,
      options?: { unitSystem?: 'metric' | 'imperial'; version?: string; flags?: Record<string, string> },
    );
    id: string;
    [method: string]: unknown;
    attributes(): Promise<WithMeta<{ id: string; make: string; model: string; year: number }>>;
    /** v3: `GET /v3/vehicles/{id}/signals`; the body without its own `meta`, and the raw headers. */
    getSignals(): Promise<{ body: unknown; headers: Record<string, string> }>;
    getSignal(code: string): Promise<{ body: unknown; headers: Record<string, string> }>;
    vin(): Promise<WithMeta<{ vin: string }>>;
    location(): Promise<WithMeta<{ latitude: number; longitude: number }>>;
    odometer(): Promise<WithMeta<{ distance: number }>>;
    battery(): Promise<WithMeta<{ percentRemaining: number; range: number }>>;
    batteryCapacity(): Promise<WithMeta<{ capacity: number }>>;
    nominalCapacity(): Promise<WithMeta>;
    charge(): Promise<WithMeta<{ isPluggedIn: boolean; state: string }>>;
    fuel(): Promise<WithMeta<{ amountRemaining: number; percentRemaining: number; range: number }>>;
    tirePressure(): Promise<
      WithMeta<{ frontLeft: number; frontRight: number; backLeft: number; backRight: number }>
    >;
    engineOil(): Promise<WithMeta<{ lifeRemaining: number }>>;
    lockStatus(): Promise<
      WithMeta<{
        isLocked: boolean;
        doors: unknown[];
        windows: unknown[];
        sunroof: unknown[];
        storage: unknown[];
        chargingPort: unknown[];
      }>
    >;
    diagnosticSystemStatus(): Promise<WithMeta<{ systems: unknown[] }>>;
    diagnosticTroubleCodes(): Promise<WithMeta<{ activeCodes: unknown[] }>>;
    serviceHistory(start?: string, end?: string): Promise<WithMeta<{ data: unknown[] }>>;
    getChargeLimit(): Promise<WithMeta<{ limit: number }>>;
    setChargeLimit(limit: number): Promise<WithMeta<{ status: string; message: string }>>;
    permissions(paging?: {
      limit?: number;
      offset?: number;
    }): Promise<WithMeta<{ permissions: string[]; paging: { count: number; offset: number } }>>;
    lock(): Promise<WithMeta<{ status: string; message: string }>>;
    unlock(): Promise<WithMeta<{ status: string; message: string }>>;
    startCharge(): Promise<WithMeta<{ status: string; message: string }>>;
    stopCharge(): Promise<WithMeta<{ status: string; message: string }>>;
    sendDestination(
      latitude: number,
      longitude: number,
    ): Promise<WithMeta<{ status: string; message: string }>>;
    disconnect(): Promise<WithMeta<{ status: string }>>;
    subscribe(webhookId: string): Promise<WithMeta<{ webhookId: string; vehicleId: string }>>;
    unsubscribe(amt: string, webhookId: string): Promise<WithMeta<{ status?: string }>>;
    batch(paths: string[]): Promise<Record<string, () => WithMeta>>;
    request(
      method: string,
      path: string,
      body?: unknown,
      headers?: Record<string, string>,
    ): Promise<{ body: unknown; meta: Meta }>;
  }
  export function getVehicles(
    token: string,
    paging?: { limit?: number; offset?: number },
  ): Promise<WithMeta<{ vehicles: string[]; paging: { count: number; offset: number } }>>;
  export function getUser(token: string): Promise<WithMeta<{ id: string }>>;
  /** v3: `GET /v3/vehicles/{id}/` on SMARTCAR_API_V3_ORIGIN. */
  export function getVehicle(
    token: string,
    vehicleId: string,
  ): Promise<{ body: unknown; headers: Record<string, string> }>;
  export function getCompatibility(
    vin: string,
    scope: string[],
    country?: string,
    options?: { clientId?: string; clientSecret?: string; mode?: string },
  ): Promise<WithMeta<{ compatible: boolean; reason: string | null; capabilities: unknown[] }>>;
  export function getCompatibilityMatrix(
    region: string,
    options?: {
      scope?: string[];
      make?: string | string[];
      type?: string;
      clientId?: string;
      clientSecret?: string;
    },
  ): Promise<WithMeta<Record<string, unknown>>>;
  export function getConnections(
    amt: string,
    filter?: { userId?: string; vehicleId?: string },
    paging?: { limit?: number; cursor?: string },
  ): Promise<
    WithMeta<{
      connections: { userId: string; vehicleId: string; connectedAt: string }[];
      paging: { cursor: string | null };
    }>
  >;
  export function deleteConnections(
    amt: string,
    filter: { userId?: string; vehicleId?: string },
  ): Promise<WithMeta<{ connections: { userId: string; vehicleId: string }[] }>>;
  export function hashChallenge(amt: string, challenge: string): string;
  export function verifyPayload(amt: string, signature: string, body: unknown): boolean;
  const smartcar: {
    AuthClient: typeof AuthClient;
    Vehicle: typeof Vehicle;
    SmartcarError: typeof SmartcarError;
    getVehicles: typeof getVehicles;
    getUser: typeof getUser;
    getVehicle: typeof getVehicle;
    getCompatibility: typeof getCompatibility;
    getCompatibilityMatrix: typeof getCompatibilityMatrix;
    getConnections: typeof getConnections;
    deleteConnections: typeof deleteConnections;
    hashChallenge: typeof hashChallenge;
    verifyPayload: typeof verifyPayload;
  };
  export default smartcar;
}
