/** The smart-charging service wired as the demo wires it, on in-memory PGlite and a manual-clock simulator. */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { createSimulator, type Simulator } from '@voltkit/simulator';
import {
  createTokenCipher,
  DEFAULT_PRICE_FILE,
  migrate,
  openSqlClient,
  type SqlClient,
  type TokenCipher,
} from '@voltkit/smart-charging';
import { wireSmartCharging, type WiredService } from '../src/wire-service.ts';

export interface EmbeddedService {
  readonly sim: Simulator;
  readonly db: SqlClient;
  readonly wired: WiredService;
  readonly cipher: TokenCipher;
  close(): Promise<void>;
}

/** Started without its schedule: a test drives the clock and the service's steps itself. */
export async function startEmbeddedService(start: Date): Promise<EmbeddedService> {
  const sim = await createSimulator({ clock: { mode: 'manual', start } });
  const db = await openSqlClient({});
  await migrate(db);
  const cipher = createTokenCipher([{ id: 'test', key: randomBytes(32) }]);
  const wired = await wireSmartCharging({
    db,
    config: {
      host: '127.0.0.1',
      port: 0,
      vehicleApi: { kind: 'embedded-simulator' },
      timeZone: 'Europe/Berlin',
      slotMinutes: 15,
      priceSource: `file:${DEFAULT_PRICE_FILE}`,
      priceFetchCron: '5 13 * * *',
      connectMode: 'simulated',
    },
    sim,
    logger: pino({ level: 'silent' }),
    now: () => sim.clock.now(),
    cipher,
  });
  await wired.service.start({ schedule: false });
  return {
    sim,
    db,
    wired,
    cipher,
    async close() {
      await wired.close();
      await wired.service.stop();
      await db.close();
      await sim.close();
    },
  };
}
