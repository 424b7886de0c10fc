import { createClient, isVoltkitError } from '@voltkit/core/client';
import { createSimulator, type Simulator } from '@voltkit/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findGrant, sqlTokenStore } from '../store/grants.ts';
import { migrate } from '../store/migrations.ts';
import { openSqlClient, type SqlClient } from '../store/sql-client.ts';
import { testTokenCipher } from '../store/test-backends.ts';
import { listVehicles } from '../store/vehicles.ts';
import { createEnrollment, newBrowserBinding, type Enrollment } from './enrollment.ts';

const REDIRECT_URI = 'http://localhost:8740/connect/callback';

describe('enrollment through Connect', () => {
  let sim: Simulator;
  let db: SqlClient;
  let enrollment: Enrollment;
  let clock = new Date('2026-11-21T21:00:00Z');
  const browser = newBrowserBinding();

  beforeAll(async () => {
    sim = await createSimulator({ clock: { mode: 'manual' } });
    db = await openSqlClient({});
    await migrate(db);
    const client = createClient({
      clientId: sim.demoApp.clientId,
      clientSecret: sim.demoApp.clientSecret,
      redirectUri: REDIRECT_URI,
      origin: sim.url,
      tokenStore: sqlTokenStore(db, testTokenCipher()),
    });
    enrollment = createEnrollment({ db, client, mode: 'simulated', authNow: () => clock });
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
    const { connectUrl } = await enrollment.start({
      ownerName: 'Camille',
      makeBypass: 'CITROEN',
      browserBinding: browser,
    });
    const url = new URL(connectUrl);
    expect(url.origin).toBe(sim.url);
    // The state is random and long, not a database id.
    expect(url.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('scope')).toContain('required:control_charge');
    expect(url.searchParams.get('scope')).toMatch(/(^| )read_location( |$)/); // optional, no prefix

    const result = await enrollment.complete(consent(connectUrl, 'camille@example.com'), browser);
    expect(result.missingScopes).toEqual([]);
    expect(result.vehicles.length).toBeGreaterThan(0);
    const [vehicle] = await listVehicles(db);
    expect(vehicle).toMatchObject({ grantId: result.grantId, make: 'CITROEN', model: 'ë-C4' });
    expect(vehicle!.batteryCapacityKwh).toBeGreaterThan(10);
    expect(await findGrant(db, result.grantId)).toMatchObject({ status: 'active', ownerId: result.ownerId });
  });

  it('reports required scopes the owner withheld so the UI can ask again', async () => {
    const { connectUrl } = await enrollment.start({
      ownerName: 'Jo',
      makeBypass: 'BMW',
      browserBinding: browser,
    });
    const result = await enrollment.complete(
      consent(connectUrl, 'jo@example.com', 'read_vehicle_info read_battery read_charge'),
      browser,
    );
    expect(result.missingScopes).toEqual(['control_charge']);
  });

  it('refuses a callback it did not start, from another browser, a second time, or after 10 minutes', async () => {
    const rejected = /does not belong to a Connect flow started in this browser/;
    await expect(enrollment.complete(`${REDIRECT_URI}?code=abc&state=forged`, browser)).rejects.toThrow(
      rejected,
    );
    sim.createTestAccount({ email: 'lee@example.com', brand: 'TESLA' });

    const fromElsewhere = await enrollment.start({ ownerName: 'Lee', browserBinding: browser });
    const callback = consent(fromElsewhere.connectUrl, 'lee@example.com');
    await expect(enrollment.complete(callback, newBrowserBinding())).rejects.toThrow(rejected);
    await expect(enrollment.complete(callback, undefined)).rejects.toThrow(rejected);

    const once = await enrollment.start({ ownerName: 'Lee', browserBinding: browser });
    await enrollment.complete(consent(once.connectUrl, 'lee@example.com'), browser);
    await expect(enrollment.complete(consent(once.connectUrl, 'lee@example.com'), browser)).rejects.toThrow(
      rejected,
    );

    const late = await enrollment.start({ ownerName: 'Lee', browserBinding: browser });
    clock = new Date(clock.getTime() + 10 * 60_000 + 1);
    await expect(enrollment.complete(consent(late.connectUrl, 'lee@example.com'), browser)).rejects.toThrow(
      rejected,
    );
  });

  it('passes on a denial as a typed error and stores nothing', async () => {
    const before = (await db.query('select id from grants')).length;
    const { connectUrl } = await enrollment.start({ ownerName: 'Kim', browserBinding: browser });
    const state = new URL(connectUrl).searchParams.get('state')!;
    const denied = await enrollment
      .complete(`${REDIRECT_URI}?error=access_denied&error_description=User+denied&state=${state}`, browser)
      .catch((e: unknown) => e);
    expect(isVoltkitError(denied) && denied.type === 'OAUTH' && denied.code === 'access_denied').toBe(true);
    expect((await db.query('select id from grants')).length).toBe(before);
  });

  it("never puts another Smartcar user's tokens on a grant (reconnect signed in as someone else)", async () => {
    sim.createTestAccount({ email: 'victim@example.com', brand: 'TESLA' });
    sim.createTestAccount({ email: 'attacker@example.com', brand: 'TESLA' });
    const first = await enrollment.start({ ownerName: 'Victim', browserBinding: browser });
    const victim = await enrollment.complete(consent(first.connectUrl, 'victim@example.com'), browser);
    const tokensBefore = await db.query('select access_token, refresh_token from grants where id = $1', [
      victim.grantId,
    ]);

    const reconnect = await enrollment.reconnect(victim.grantId, browser);
    const error = await enrollment
      .complete(consent(reconnect.connectUrl, 'attacker@example.com'), browser)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'EnrollmentError', code: 'USER_MISMATCH' });
    expect(
      await db.query('select access_token, refresh_token from grants where id = $1', [victim.grantId]),
    ).toEqual(tokensBefore);
    expect((await findGrant(db, victim.grantId))?.status).toBe('active');
    // The attacker's car was not linked anywhere, and no grant holds the attacker's tokens.
    const vehicles = await listVehicles(db);
    expect(vehicles.filter((vehicle) => vehicle.grantId === victim.grantId)).toHaveLength(1);

    // The owner themself can reconnect.
    const own = await enrollment.reconnect(victim.grantId, browser);
    const again = await enrollment.complete(consent(own.connectUrl, 'victim@example.com'), browser);
    expect(again).toMatchObject({ grantId: victim.grantId, ownerId: victim.ownerId });
  });
});
