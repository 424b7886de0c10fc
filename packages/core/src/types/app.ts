import { z } from 'zod';

export type ConnectMode = 'live' | 'simulated' | 'test';

/** `GET /compatibility` (Basic client auth). */
export interface Compatibility {
  compatible: boolean;
  reason: 'VEHICLE_NOT_COMPATIBLE' | 'MAKE_NOT_COMPATIBLE' | null;
  capabilities: {
    permission: string;
    endpoint: string;
    capable: boolean;
    reason: 'VEHICLE_NOT_CAPABLE' | 'SMARTCAR_NOT_CAPABLE' | null;
  }[];
}
export const CompatibilitySchema: z.ZodType<Compatibility> = z.object({
  compatible: z.boolean(),
  reason: z.enum(['VEHICLE_NOT_COMPATIBLE', 'MAKE_NOT_COMPATIBLE']).nullable(),
  capabilities: z.array(
    z.object({
      permission: z.string(),
      endpoint: z.string(),
      capable: z.boolean(),
      reason: z.enum(['VEHICLE_NOT_CAPABLE', 'SMARTCAR_NOT_CAPABLE']).nullable(),
    }),
  ),
});

export type Powertrain = 'ICE' | 'BEV' | 'PHEV' | 'HEV';
export type CompatibilityRegion = 'US' | 'CA' | 'EUROPE';

export interface CompatibilityMatrixEntry {
  model: string;
  startYear: number;
  endYear: number | null;
  type: Powertrain;
  endpoints: string[];
  permissions: string[];
}
export const CompatibilityMatrixEntrySchema: z.ZodType<CompatibilityMatrixEntry> = z.object({
  model: z.string(),
  startYear: z.number().int(),
  endYear: z.number().int().nullable(),
  type: z.enum(['ICE', 'BEV', 'PHEV', 'HEV']),
  endpoints: z.array(z.string()),
  permissions: z.array(z.string()),
});

/** `GET /compatibility/matrix`: make (upper case) → supported models. */
export type CompatibilityMatrix = Record<string, CompatibilityMatrixEntry[]>;
export const CompatibilityMatrixSchema: z.ZodType<CompatibilityMatrix> = z.record(
  z.string(),
  z.array(CompatibilityMatrixEntrySchema),
);

export interface Connection {
  userId: string;
  vehicleId: string;
  connectedAt: string;
  mode?: ConnectMode | undefined;
}

/** `GET /v2.0/management/connections` (Basic `default:<AMT>`); `cursor` is `null` on the last page. */
export interface Connections {
  connections: Connection[];
  paging: { cursor: string | null };
}
export const ConnectionsSchema: z.ZodType<Connections> = z.object({
  connections: z.array(
    z.object({
      userId: z.string(),
      vehicleId: z.string(),
      connectedAt: z.string(),
      mode: z.enum(['live', 'simulated', 'test']).optional(),
    }),
  ),
  paging: z.object({ cursor: z.string().nullable() }),
});

/** `DELETE /v2.0/management/connections` */
export interface DeletedConnections {
  connections: { userId: string; vehicleId: string }[];
}
export const DeletedConnectionsSchema: z.ZodType<DeletedConnections> = z.object({
  connections: z.array(z.object({ userId: z.string(), vehicleId: z.string() })),
});

/** `POST /vehicles/{id}/webhooks/{webhookId}` */
export interface WebhookSubscription {
  webhookId: string;
  vehicleId: string;
}
export const WebhookSubscriptionSchema: z.ZodType<WebhookSubscription> = z.object({
  webhookId: z.string(),
  vehicleId: z.string(),
});
