import { createClient, isVoltkitError } from '@voltkit/core/client';
import { createSimulator, type Simulator } from '@voltkit/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findGrant, sqlTokenStore } from '../store/grants.ts';
import { migrate } from '../store/migrations.ts';
import { openSqlClient, type SqlClient } from '../store/sql-client.ts';
import { listVehicles } from '../store/vehicles.ts';
import { createEnrollment, type Enrollment } from './enrollment.ts';

const REDIRECT_URI = 'http://localhost:8740/connect/callback';

describe('enrollment through Connect', () => {
  let sim: Simulator;
  let db: SqlClient;
  let enrollment: Enrollment;

  beforeAll(async () => {
    sim = await createSimulator({ clock: { mode: 'manual' } });
    db = await openSqlClient({});
    await migrate(db);
    const client = createClient({
      clientId: sim.demoApp.clientId,
      clientSecret: sim.demoApp.clientSecret,
      redirectUri: REDIRECT_URI,
      origin: sim.url,
      tokenStore: sqlTokenStore(db),
    });
    enrollment = createEnrollment({ db, client, mode: 'simulated' });
  });
  afterAll(async () => {
    await sim.close();
    await db.close();
  });

  /** What the owner's browser does in Connect, answered by the simulator, ending at our callback URL. */
  function consent(connectUrl: string, email: string, scope?: string): URL {
    const url = new URL(connectUrl);
    const { code } = sim.authorize({
      clientId: url.searchParams.get('client_id')!,
      redirectUri: url.searchParams.get('redirect_uri')!,
      scope: scope ?? url.searchParams.get('scope')!,
      email,
      ...(url.searchParams.get('make') ? { make: url.searchParams.get('make')! } : {}),
    });
    const callback = new URL(REDIRECT_URI);
    callback.searchParams.set('code', code);
    callback.searchParams.set('state', url.searchParams.get('state')!);
    return callback;
  }

  it("links the owner's vehicles with make, model and battery capacity", async () => {
    sim.createTestAccount({ email: 'camille@example.com', brand: 'CITROEN', model: 'ë-C4' });
    const { grantId, connectUrl } = await enrollment.start({ ownerName: 'Camille', makeBypass: 'CITROEN' });
    const url = new URL(connectUrl);
    expect(url.origin).toBe(sim.url);
    expect(url.searchParams.get('state')).toBe(grantId);
    expect(url.searchParams.get('scope')).toContain('required:control_charge');
    expect(url.searchParams.get('scope')).toMatch(/(^| )read_location( |$)/); // optional, no prefix

    const result = await enrollment.complete(consent(connectUrl, 'camille@example.com'));
    expect(result.missingScopes).toEqual([]);
    expect(result.vehicles.length).toBeGreaterThan(0);
    const [vehicle] = await listVehicles(db);
    expect(vehicle).toMatchObject({ grantId, make: 'CITROEN', model: 'ë-C4' });
    expect(vehicle!.batteryCapacityKwh).toBeGreaterThan(10);
    expect((await findGrant(db, grantId))?.status).toBe('active');
  });

  it('reports required scopes the owner withheld so the UI can ask again', async () => {
    const { connectUrl } = await enrollment.start({ ownerName: 'Jo', makeBypass: 'BMW' });
    const result = await enrollment.complete(
      consent(connectUrl, 'jo@example.com', 'read_vehicle_info read_battery read_charge'),
    );
    expect(result.missingScopes).toEqual(['control_charge']);
  });

  it('refuses a callback it did not start, and passes on a denial as a typed error', async () => {
    await expect(enrollment.complete(`${REDIRECT_URI}?code=abc&state=forged`)).rejects.toThrow(
      /unknown state/,
    );
    const { grantId } = await enrollment.start({ ownerName: 'Kim' });
    const denied = await enrollment
      .complete(`${REDIRECT_URI}?error=access_denied&error_description=User+denied&state=${grantId}`)
      .catch((e: unknown) => e);
    expect(isVoltkitError(denied) && denied.type === 'OAUTH' && denied.code === 'access_denied').toBe(true);
    expect((await findGrant(db, grantId))?.status).toBe('pending');
  });
});
