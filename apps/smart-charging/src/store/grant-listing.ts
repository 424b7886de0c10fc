import { z } from 'zod';
import { decodeCursor, SqlBuilder, toPage, type BuiltQuery, type Page } from './cursor.ts';
import type { GrantStatus } from './grants.ts';
import type { SqlQueryable } from './sql-client.ts';

/** A grant as its list shows it: never a token, with the ids of the cars it reaches. */
export interface GrantListing {
  readonly id: string;
  readonly ownerId: string | null;
  readonly status: GrantStatus;
  readonly statusReason: string | null;
  readonly scopes: readonly string[];
  readonly vehicleIds: readonly string[];
}

export interface GrantListFilter {
  /** Only this owner's grants (an owner's view); absent = every grant (operators). */
  readonly ownerId?: string;
  readonly status?: GrantStatus;
  /** Cursor from the previous page. */
  readonly cursor?: string;
  readonly limit: number;
}

interface GrantListingRow extends Record<string, unknown> {
  id: string;
  owner_id: string | null;
  status: GrantStatus;
  status_reason: string | null;
  scopes: string[];
  vehicle_ids: string[];
}

const GrantCursorSchema = z.tuple([z.string().min(1).max(200)]);

/**
 * Grants in id order, a keyset on the primary key (or on the owner / status index when filtered by them);
 * each grant's cars come from the vehicles-by-grant index, for the page's grants only.
 */
export function grantListQuery(filter: GrantListFilter): BuiltQuery {
  const sql = new SqlBuilder();
  const where: string[] = [];
  if (filter.ownerId !== undefined) where.push(`g.owner_id = ${sql.param(filter.ownerId)}`);
  if (filter.status !== undefined) where.push(`g.status = ${sql.param(filter.status)}`);
  if (filter.cursor !== undefined) {
    const [afterId] = decodeCursor(filter.cursor, GrantCursorSchema);
    where.push(`g.id > ${sql.param(afterId)}`);
  }
  const limit = sql.param(filter.limit + 1);
  return {
    text: `select g.id, g.owner_id, g.status, g.status_reason, g.scopes,
        array(select v.id from vehicles v where v.grant_id = g.id order by v.id) as vehicle_ids
      from grants g ${where.length ? `where ${where.join(' and ')}` : ''}
      order by g.id limit ${limit}`,
    params: sql.params,
  };
}

export async function listGrantPage(tx: SqlQueryable, filter: GrantListFilter): Promise<Page<GrantListing>> {
  const query = grantListQuery(filter);
  const rows = await tx.query<GrantListingRow>(query.text, query.params);
  return toPage(
    rows,
    filter.limit,
    (row) => ({
      id: row.id,
      ownerId: row.owner_id,
      status: row.status,
      statusReason: row.status_reason,
      scopes: row.scopes,
      vehicleIds: row.vehicle_ids,
    }),
    (row) => [row.id],
  );
}
