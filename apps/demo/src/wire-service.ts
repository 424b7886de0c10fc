import { createClient, type VoltkitClient } from '@voltkit/core/client';
import type { Simulator } from '@voltkit/simulator';
import {
  createHttpServer,
  createOperatorToken,
  createSmartChargingService,
  loadBdewProfile,
  sqlTokenStore,
  type ServiceConfig,
  type SmartChargingHttp,
  type SmartChargingService,
  type SqlClient,
  type TokenCipher,
} from '@voltkit/smart-charging';
import type { Logger } from 'pino';
import { createSmartChargingLink, type SmartChargingLink } from '@voltkit/mqtt-bridge';
import { freePort } from './ports.ts';
import { createServiceApi, injectTransport, type ServiceApi } from './service-api.ts';

export interface WiredService {
  /** One client for the service and the bridge: one token store, one refresh in flight per grant. */
  readonly client: VoltkitClient;
  readonly service: SmartChargingService;
  readonly http: SmartChargingHttp;
  readonly api: ServiceApi;
  /** The bridge's smart-charging link to this service, in this process (the same routes as over HTTP). */
  readonly link: SmartChargingLink;
  /** `http://127.0.0.1:<port>/`: the dashboard. */
  readonly url: string;
  /** The demo's admin token (for login links of this run's operator). */
  readonly adminTokenId: string;
  /** Stops the HTTP server (the caller stops the service's scheduler). */
  close(): Promise<void>;
}

/**
 * The smart-charging service with its HTTP API and dashboard, against the embedded simulator or Smartcar.
 * Its Connect callback is `<url>connect/callback`, so the port is fixed before the client is made.
 */
export async function wireSmartCharging(options: {
  readonly db: SqlClient;
  readonly config: Pick<
    ServiceConfig,
    | 'host'
    | 'port'
    | 'vehicleApi'
    | 'timeZone'
    | 'slotMinutes'
    | 'priceSource'
    | 'priceFetchCron'
    | 'entsoeToken'
    | 'connectMode'
  >;
  readonly sim: Simulator | undefined;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Encrypts the Smartcar tokens at rest (the stack's key file, or a throwaway key for a scenario). */
  readonly cipher: TokenCipher;
}): Promise<WiredService> {
  const { config, db, sim, logger, now, cipher } = options;
  const port = config.port === 0 ? await freePort(config.host) : config.port;
  const url = `http://${config.host}:${port}/`;
  const api = config.vehicleApi;
  let client: VoltkitClient;
  if (api.kind === 'smartcar') {
    client = createClient({
      clientId: api.clientId,
      clientSecret: api.clientSecret,
      redirectUri: api.redirectUri,
      ...(api.origin === undefined ? {} : { origin: api.origin }),
      tokenStore: sqlTokenStore(db, cipher),
    });
  } else {
    if (!sim) throw new Error('no Smartcar credentials and no simulator');
    client = createClient({
      clientId: sim.demoApp.clientId,
      clientSecret: sim.demoApp.clientSecret,
      redirectUri: `${url}connect/callback`,
      origin: sim.url,
      tokenStore: sqlTokenStore(db, cipher),
    });
  }
  const service = createSmartChargingService({
    config,
    db,
    client,
    connectMode: config.connectMode,
    profile: await loadBdewProfile(),
    logger: logger.child({ app: 'smart-charging' }),
    now,
  });
  const http = await createHttpServer(service, { logger: logger.child({ app: 'http' }), now });
  await http.app.listen({ host: config.host, port });
  // The demo drives the service as an admin operator would, with a token of its own made for this run.
  const { token, record } = await createOperatorToken(db, { name: 'demo (this run)', role: 'admin' });
  return {
    client,
    service,
    http,
    api: createServiceApi(http, token),
    link: createSmartChargingLink(injectTransport(http, token)),
    url,
    adminTokenId: record.id,
    close: () => http.app.close(),
  };
}
