import { z } from 'zod';
import { commandFromRow, type CommandRecord, type CommandStatus } from './command-log.ts';
import { decodeCursor, SqlBuilder, toPage, type BuiltQuery, type Page } from './cursor.ts';
import type { SqlQueryable } from './sql-client.ts';

export interface CommandListFilter {
  /** Only this owner's cars' commands; absent = the fleet's (operators). */
  readonly ownerId?: string;
  readonly vehicleId?: string;
  readonly status?: CommandStatus;
  /** Due at or after. */
  readonly since?: Date;
  /** Due before. */
  readonly until?: Date;
  readonly cursor?: string;
  readonly limit: number;
  /** `newest`: latest due first (what a console shows), `oldest` the log's own order. @default 'oldest' */
  readonly order?: 'oldest' | 'newest';
}

// due time (ISO), vehicle id, action: the log's order, unique by the table's key.
const CommandCursorSchema = z.tuple([
  z.iso.datetime(),
  z.string().min(1).max(200),
  z.string().min(1).max(50),
]);

/**
 * The command log oldest (or newest) first, keyset-paged on (due_at, vehicle_id, action), which one index
 * walks either way.
 */
export function commandListQuery(filter: CommandListFilter): BuiltQuery {
  const sql = new SqlBuilder();
  const newest = filter.order === 'newest';
  const where: string[] = [];
  if (filter.ownerId !== undefined)
    where.push(`c.vehicle_id in (select v.id from grants g join vehicles v on v.grant_id = g.id
      where g.owner_id = ${sql.param(filter.ownerId)})`);
  if (filter.vehicleId !== undefined) where.push(`c.vehicle_id = ${sql.param(filter.vehicleId)}`);
  if (filter.status !== undefined) where.push(`c.status = ${sql.param(filter.status)}`);
  if (filter.since !== undefined) where.push(`c.due_at >= ${sql.param(filter.since)}`);
  if (filter.until !== undefined) where.push(`c.due_at < ${sql.param(filter.until)}`);
  if (filter.cursor !== undefined) {
    const [dueAt, vehicleId, action] = decodeCursor(filter.cursor, CommandCursorSchema);
    where.push(
      `(c.due_at, c.vehicle_id, c.action) ${newest ? '<' : '>'} (${sql.param(new Date(dueAt))}::timestamptz, ${sql.param(vehicleId)}, ${sql.param(action)})`,
    );
  }
  const direction = newest ? ' desc' : '';
  return {
    text: `select c.* from commands c ${where.length ? `where ${where.join(' and ')}` : ''}
      order by c.due_at${direction}, c.vehicle_id${direction}, c.action${direction}
      limit ${sql.param(filter.limit + 1)}`,
    params: sql.params,
  };
}

export async function listCommandPage(
  tx: SqlQueryable,
  filter: CommandListFilter,
): Promise<Page<CommandRecord>> {
  const query = commandListQuery(filter);
  const rows = await tx.query<Parameters<typeof commandFromRow>[0]>(query.text, query.params);
  return toPage(
    rows.map(commandFromRow),
    filter.limit,
    (command) => command,
    (command) => [command.dueAt.toISOString(), command.vehicleId, command.action],
  );
}
