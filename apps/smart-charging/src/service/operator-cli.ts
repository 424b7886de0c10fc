import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { listApiTokens, revokeApiToken } from '../store/api-tokens.ts';
import { migrate } from '../store/migrations.ts';
import { openSqlClient, type SqlClient } from '../store/sql-client.ts';
import { createLoginCode, createOperatorToken } from './auth/identity.ts';
import type { ServiceConfig } from './config.ts';
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';

export const OPERATOR_CLI_USAGE = `usage: voltkit-smart-charging [command]
  (no command)                              run the service
  token create --role admin|read --name N   a new operator API token (shown once; stored hashed)
  token list                                tokens with role, creation, last use, revocation
  token revoke <id>                         revoke a token (its sessions and login links end too)
  login-link --token-id <id>                a one-time, 15-minute browser login link for that token's operator
`;

export class CliUsageError extends Error {
  override name = 'CliUsageError';
}

/** The operator commands, on the database the service uses (same environment variables). */
export async function runOperatorCommand(
  argv: readonly string[],
  config: ServiceConfig,
  output: (line: string) => void,
  _logger?: Logger,
): Promise<void> {
  const db = await openDatabase(config);
  try {
    await migrate(db);
    await dispatch(argv, db, config, output);
  } finally {
    await db.close();
  }
}

async function dispatch(
  argv: readonly string[],
  db: SqlClient,
  config: ServiceConfig,
  output: (line: string) => void,
) {
  const [command, sub, ...rest] = argv;
  const base = `http://${config.host === '0.0.0.0' || config.host === '127.0.0.1' ? 'localhost' : config.host}:${config.port}/`;
  if (command === 'token' && sub === 'create') {
    const { values } = parseArgs({
      args: rest,
      options: { role: { type: 'string' }, name: { type: 'string' } },
      strict: true,
    });
    if (values.role !== 'admin' && values.role !== 'read')
      throw new CliUsageError('token create: --role must be admin or read');
    const name = values.name?.trim() || `${values.role} operator`;
    const { token, record } = await createOperatorToken(db, { name, role: values.role });
    const code = await createLoginCode(db, { apiTokenId: record.id }, { now: new Date() });
    output(`token ${record.id} (${record.role}, "${record.name}") created. It is shown only now:`);
    output(`  ${token}`);
    output(`  use it as: Authorization: Bearer <token>`);
    output(`  browser login link (one-time, 15 minutes): ${base}login#code=${code}`);
    return;
  }
  if (command === 'token' && sub === 'list') {
    for (const token of await listApiTokens(db))
      output(
        `${token.id}  ${token.role.padEnd(5)}  ${token.name}  created ${token.createdAt.toISOString()}` +
          `  last used ${token.lastUsedAt?.toISOString() ?? 'never'}${token.revokedAt ? `  REVOKED ${token.revokedAt.toISOString()}` : ''}`,
      );
    return;
  }
  if (command === 'token' && sub === 'revoke') {
    const id = rest[0];
    if (id === undefined || rest.length !== 1)
      throw new CliUsageError('token revoke: give one token id (see token list)');
    if (!(await revokeApiToken(db, id))) throw new CliUsageError(`token revoke: no active token ${id}`);
    output(`token ${id} revoked`);
    return;
  }
  if (command === 'login-link') {
    const { values } = parseArgs({
      args: argv.slice(1),
      options: { 'token-id': { type: 'string' } },
      strict: true,
    });
    const id = values['token-id'];
    const token = (await listApiTokens(db)).find(
      (candidate) => candidate.id === id && candidate.revokedAt === null,
    );
    if (!token) throw new CliUsageError('login-link: --token-id must name an active token (see token list)');
    const code = await createLoginCode(db, { apiTokenId: token.id }, { now: new Date() });
    output(`${base}login#code=${code}`);
    return;
  }
  throw new CliUsageError(`unknown command "${argv.join(' ')}"\n${OPERATOR_CLI_USAGE}`);
}

async function openDatabase(config: ServiceConfig): Promise<SqlClient> {
  if ('databaseUrl' in config.storage) return openSqlClient({ databaseUrl: config.storage.databaseUrl });
  const dir = join(config.storage.dataDir, 'db');
  await mkdir(dir, { recursive: true });
  return openSqlClient({ dataDir: dir });
}
