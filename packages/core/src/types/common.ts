import { z } from 'zod';

/** Units of distance, volume and pressure in a response (`SC-Unit-System`). */
export type UnitSystem = 'metric' | 'imperial';

export const UNIT_SYSTEMS: readonly UnitSystem[] = ['metric', 'imperial'];

export const UnitSystemSchema: z.ZodType<UnitSystem> = z.enum(['metric', 'imperial']);

/** Offset paging as used by `/vehicles` and `/permissions`; `count` is the total across pages. */
export interface Paging {
  count: number;
  offset: number;
}

export const PagingSchema: z.ZodType<Paging> = z.object({
  count: z.number().int().nonnegative(),
  offset: z.number().int().nonnegative(),
});

/** Paging options a caller passes to list endpoints. */
export interface PagingOptions {
  limit?: number | undefined;
  offset?: number | undefined;
}

/** Response metadata read from the `SC-*` headers; fields are absent when the header was. */
export interface ResponseMeta {
  /** `SC-Request-Id`: quote it to Smartcar support. */
  requestId?: string;
  /** `SC-Data-Age`: when the vehicle recorded the value. */
  dataAge?: Date;
  /** `SC-Fetched-At`: when Smartcar fetched it from the manufacturer. */
  fetchedAt?: Date;
  /** `SC-Unit-System`: the units the body is in. */
  unitSystem?: UnitSystem;
}

const isoDate = z.iso
  .datetime({ offset: true, local: true })
  .or(z.iso.date())
  .transform((value) => new Date(value));

/** Parses a lower-cased header record into {@link ResponseMeta}; a bad header fails naming it. */
export const ResponseMetaSchema: z.ZodType<ResponseMeta, Record<string, string | undefined>> = z
  .object({
    'sc-request-id': z.string().min(1).optional(),
    'sc-data-age': isoDate.optional(),
    'sc-fetched-at': isoDate.optional(),
    'sc-unit-system': z.enum(['metric', 'imperial']).optional(),
  })
  .transform((headers) => {
    const meta: ResponseMeta = {};
    if (headers['sc-request-id'] !== undefined) meta.requestId = headers['sc-request-id'];
    if (headers['sc-data-age'] !== undefined) meta.dataAge = headers['sc-data-age'];
    if (headers['sc-fetched-at'] !== undefined) meta.fetchedAt = headers['sc-fetched-at'];
    if (headers['sc-unit-system'] !== undefined) meta.unitSystem = headers['sc-unit-system'];
    return meta;
  });

/** A parsed body together with the response metadata. */
export type WithMeta<T> = T & { readonly meta: ResponseMeta };

/** The exact message every successful v2.0 command answers with. */
export const COMMAND_SUCCESS_MESSAGE = 'Successfully sent request to vehicle' as const;

/** `{"status":"success","message":"Successfully sent request to vehicle"}` — lock, unlock, charge, limit, navigation. */
export interface CommandResponse {
  status: 'success';
  message: string;
}

export const CommandResponseSchema: z.ZodType<CommandResponse> = z.object({
  status: z.literal('success'),
  message: z.string(),
});

/** `{"status":"success"}` — disconnect and webhook unsubscribe. */
export interface StatusResponse {
  status: 'success';
}

export const StatusResponseSchema: z.ZodType<StatusResponse> = z.object({ status: z.literal('success') });
