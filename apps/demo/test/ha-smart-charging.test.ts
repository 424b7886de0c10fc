/* eslint-disable @typescript-eslint/no-explicit-any -- tests inspect parsed JSON payloads freely */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCoreVehicleSource,
  createServiceVehicleSource,
  createSmartChargingLink,
  httpTransport,
  parseConfig,
  startBridge,
  startEmbeddedBroker,
  validateDeviceDiscovery,
  type Bridge,
  type EmbeddedBroker,
  type SmartChargingLink,
} from '@voltkit/mqtt-bridge';
import type { Simulator } from '@voltkit/simulator';
import {
  createOperatorToken,
  sqlTokenStore,
  type SqlClient,
  type TokenCipher,
} from '@voltkit/smart-charging';
import { DEMO_FLEET } from '../src/demo-fleet.ts';
import { linkDemoFleet } from '../src/link-fleet.ts';
import type { WiredService } from '../src/wire-service.ts';
import { startEmbeddedService, type EmbeddedService } from './embedded-service.ts';

const START = new Date('2026-11-24T17:00:00Z'); // Tuesday 18:00 in Berlin
const BROKERS = ['aedes', 'mosquitto'] as const;
const LAYOUTS = ['in-process', 'http'] as const;
const [FIRST_CAR, SECOND_CAR] = DEMO_FLEET.filter((car) => car.arrivalSoc !== undefined);

interface Received {
  topic: string;
  payload: string;
  at: number;
}

/** Stands in for Home Assistant: records everything, waits for what it expects. */
class Ha {
  readonly messages: Received[] = [];
  readonly client: MqttClient;
  constructor(client: MqttClient) {
    this.client = client;
    client.on('message', (topic, payload) =>
      this.messages.push({ topic, payload: payload.toString(), at: performance.now() }),
    );
  }
  async waitFor(predicate: (m: Received) => boolean, what: string, since = 0, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.slice(since).find(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  mark(): number {
    return this.messages.length;
  }
}

const latencies: string[] = [];

describe.each(BROKERS.flatMap((broker) => LAYOUTS.map((layout) => ({ broker, layout }))))(
  'smart charging in Home Assistant, $layout layout, on $broker',
  ({ broker: brokerKind, layout }) => {
    let sim: Simulator;
    let db: SqlClient;
    let service: EmbeddedService;
    let wired: WiredService;
    let embedded: EmbeddedBroker | undefined;
    let bridge: Bridge;
    let ha: Ha;
    let link: SmartChargingLink;
    let bridgeToken: string;
    let vehicleId: string;
    let cipher: TokenCipher;
    let slug: string;
    const base = `vkha_${layout.replace('-', '')}_${randomBytes(3).toString('hex')}`;
    const prefix = `${base}_ha`;
    const t = (key: string) => `${base}/${slug}/${key}`;
    const json = (m: Received) => JSON.parse(m.payload) as Record<string, any>;

    const setFromHa = async (command: string, payload: string) => {
      const since = ha.mark();
      const sentAt = performance.now();
      await ha.client.publishAsync(t(`${command}/set`), payload, { qos: 1 });
      const result = await ha.waitFor(
        (m) => m.topic === t(`${command}/result`) && json(m)['status'] !== 'pending',
        `${command} result`,
        since,
      );
      return { result: json(result), since, sentAt, ms: result.at - sentAt };
    };

    beforeAll(async () => {
      service = await startEmbeddedService(START);
      ({ sim, db, wired, cipher } = service);
      await wired.api.setGrid(24, 17_500);
      // The car is linked once, in the service (Connect), and plugged in.
      const [linked] = await linkDemoFleet({ sim, api: wired.api, fleet: [FIRST_CAR!] });
      vehicleId = linked!.vehicleId;
      await wired.service.replan('the car arrived');

      let url: string;
      let protocolVersion: 4 | 5;
      if (brokerKind === 'aedes') {
        embedded = await startEmbeddedBroker({ port: 0 });
        url = embedded.url;
        protocolVersion = 4;
      } else {
        url = 'mqtt://127.0.0.1:1883';
        protocolVersion = 5;
      }
      ha = new Ha(await mqtt.connectAsync(url, { protocolVersion, clientId: `${base}_ha` }));
      await ha.client.subscribeAsync([`${base}/#`, `${prefix}/#`], { qos: 1 });

      bridgeToken = (await createOperatorToken(db, { name: 'mqtt bridge', role: 'admin' })).token;
      const config = parseConfig({
        baseTopic: base,
        mqtt: { url, protocolVersion, clientId: `${base}_bridge` },
        homeAssistant: { discoveryPrefix: prefix },
        polling: { vehicleListSeconds: 0 },
        logLevel: 'silent',
      });
      const logger = pino({ level: 'silent' });
      if (layout === 'in-process') {
        link = wired.link;
        bridge = await startBridge({
          config,
          source: createCoreVehicleSource({
            client: wired.client,
            grantIds: () => wired.api.activeGrantIds(),
          }),
          brokerUrl: url,
          protocolVersion,
          smartCharging: { link, pollSeconds: 1 },
          logger,
        });
      } else {
        // A separate bridge: only the service's URL and an operator API token.
        link = createSmartChargingLink(httpTransport({ serviceUrl: wired.url, apiToken: bridgeToken }));
        const serviceSource = createServiceVehicleSource(link);
        bridge = await startBridge({
          config,
          source: serviceSource,
          brokerUrl: url,
          protocolVersion,
          smartCharging: { link, pollSeconds: 1, serviceSource },
          logger,
        });
      }
      slug = bridge.vehicleSlugs()[0]!;
    }, 120_000);

    afterAll(async () => {
      await bridge?.stop();
      if (brokerKind === 'mosquitto' && ha) {
        // Leave the shared broker clean.
        const retained = new Set(ha.messages.filter((m) => m.payload !== '').map((m) => m.topic));
        await Promise.all(
          [...retained]
            .filter((topic) => !topic.endsWith('/set') && !topic.endsWith('/result'))
            .map((topic) => ha.client.publishAsync(topic, '', { qos: 1, retain: true })),
        );
      }
      await ha?.client.endAsync();
      await embedded?.close();
      await service?.close();
    });

    it('discovers the car linked in the service, with mode, targets, departure and the plan, valid for HA', async () => {
      expect(bridge.vehicleSlugs()).toHaveLength(1);
      const discovery = await ha.waitFor(
        (m) => m.topic.startsWith(`${prefix}/device/`) && m.payload.includes('smart_charging_mode'),
        'device discovery',
      );
      const payload = json(discovery);
      expect(validateDeviceDiscovery(payload)).toEqual({ success: true });
      expect(Object.keys(payload['components'])).toEqual(
        expect.arrayContaining([
          'smart_charging_mode',
          'target_soc',
          'minimum_soc',
          'departure_time',
          'next_charge_start',
          'next_charge_end',
          'next_charge_energy',
          'next_charge_cost',
          'expected_soc_at_departure',
          'planned_savings',
          'charging',
        ]),
      );
      await ha.waitFor((m) => m.topic === t('smart_charging_mode') && m.payload === 'smart', 'mode');
      await ha.waitFor((m) => m.topic === t('target_soc') && m.payload === '80', 'target');
      await ha.waitFor((m) => m.topic === t('minimum_soc') && m.payload === '10', 'minimum');
      await ha.waitFor((m) => m.topic === t('departure_time') && m.payload === '07:00', 'departure');
      const start = await ha.waitFor((m) => m.topic === t('next_charge_start'), 'next charge start');
      expect(Date.parse(start.payload)).toBeGreaterThanOrEqual(START.getTime() - 15 * 60_000);
      const energy = await ha.waitFor((m) => m.topic === t('next_charge_energy'), 'energy');
      expect(Number(energy.payload)).toBeGreaterThan(0);
      const expected = await ha.waitFor((m) => m.topic === t('expected_soc_at_departure'), 'expected SoC');
      expect(Number(expected.payload)).toBeCloseTo(80, 0);
      const attributes = json(
        await ha.waitFor((m) => m.topic === t('attributes/smart_charging'), 'plan attributes'),
      );
      expect(attributes['slots'].length).toBeGreaterThan(8);
      expect(attributes['slots'][0]).toEqual({
        start: expect.any(String),
        kw: expect.any(Number),
        price: expect.any(Number),
        soc: expect.any(Number),
      });
      // The car's own values: read by the bridge (in one process) or by the service (standalone).
      const soc = await ha.waitFor((m) => m.topic === t('soc'), 'soc');
      expect(Number(soc.payload)).toBeCloseTo(FIRST_CAR!.arrivalSoc! * 100, 0);
    });

    it('a change in HA re-plans within seconds and shows in the service’s API and dashboard', async () => {
      const planBefore = (await wired.api.vehicles()).length; // warm
      expect(planBefore).toBe(1);
      const { result, since, sentAt, ms } = await setFromHa('target_soc', '90');
      expect(result).toMatchObject({ status: 'ok', value: 90 });
      const state = await ha.waitFor(
        (m) => m.topic === t('target_soc') && m.payload === '90',
        'target',
        since,
      );
      expect((await wired.api.preferences(vehicleId)).targetSoc).toBe(0.9);
      const dashboard = await wired.service.dashboard({ kind: 'fleet', vehicleIds: [vehicleId] });
      expect(dashboard.vehicles.find((v) => v.id === vehicleId)?.targetSoc).toBe(0.9);
      expect(dashboard.planReason).toContain(`preferences of ${vehicleId} changed`);
      const expected = await ha.waitFor(
        (m) => m.topic === t('expected_soc_at_departure') && Math.abs(Number(m.payload) - 90) < 1,
        'the new plan’s SoC at departure',
        since,
      );
      latencies.push(
        `${layout}/${brokerKind}: target_soc set → result ok ${ms.toFixed(0)} ms, state ${(state.at - sentAt).toFixed(0)} ms, re-planned SoC at departure in HA ${(expected.at - sentAt).toFixed(0)} ms`,
      );
      expect(expected.at - sentAt).toBeLessThan(5_000);

      const departure = await setFromHa('departure_time', '06:15');
      expect(departure.result['status']).toBe('ok');
      const preferences = await wired.api.preferences(vehicleId);
      expect(Object.values(preferences.departures).every((time) => time === '06:15')).toBe(true);
      await ha.waitFor((m) => m.topic === t('departure_time') && m.payload === '06:15', 'departure');

      const refused = await setFromHa('departure_time', '25:00');
      expect(refused.result).toMatchObject({ status: 'error', error: expect.stringContaining('HH:MM') });
      const tooHigh = await setFromHa('minimum_soc', '95');
      expect(tooHigh.result).toMatchObject({ status: 'error', error: expect.stringContaining('above') });
      expect((await wired.api.preferences(vehicleId)).minimumSoc).toBe(0.1);
    });

    it('a change in the service shows in HA', async () => {
      const since = ha.mark();
      const changedAt = performance.now();
      const preferences = await wired.api.preferences(vehicleId);
      await wired.api.setPreferences(vehicleId, { ...preferences, minimumSoc: 0.3 });
      const shown = await ha.waitFor(
        (m) => m.topic === t('minimum_soc') && m.payload === '30',
        'minimum from the service',
        since,
      );
      latencies.push(
        `${layout}/${brokerKind}: preferences PUT in the service → HA ${(shown.at - changedAt).toFixed(0)} ms (poll 1 s)`,
      );
    });

    it('the mode select and the charging switch go to the service, so HA and the planner never fight', async () => {
      const off = await setFromHa('smart_charging_mode', 'off');
      expect(off.result['status']).toBe('ok');
      expect(wired.service.modeOf(vehicleId)).toBe('off');
      expect((await wired.api.vehicles())[0]!.mode).toBe('off');
      await ha.waitFor((m) => m.topic === t('smart_charging_mode') && m.payload === 'off', 'off', off.since);
      const plan = await link.snapshot();
      expect(plan.get(vehicleId)?.next).toBeNull();

      await setFromHa('smart_charging_mode', 'smart');
      expect(wired.service.modeOf(vehicleId)).toBe('smart');
      // While smart charging owns the car, ON is charge now and OFF hands the car back to the plan.
      const on = await setFromHa('charging', 'ON');
      expect(on.result).toMatchObject({ status: 'ok', value: 'ON' });
      expect(wired.service.modeOf(vehicleId)).toBe('now');
      expect(wired.service.chargeNowVehicles()).toContain(vehicleId);
      await ha.waitFor((m) => m.topic === t('charging') && m.payload === 'ON', 'switch on', on.since);
      await ha.waitFor((m) => m.topic === t('smart_charging_mode') && m.payload === 'now', 'now', on.since);
      const pause = await setFromHa('charging', 'OFF');
      expect(pause.result['status']).toBe('ok');
      expect(wired.service.modeOf(vehicleId)).toBe('smart');
      await ha.waitFor((m) => m.topic === t('charging') && m.payload === 'OFF', 'switch off', pause.since);
      // A mode set in the service shows in HA too.
      const since = ha.mark();
      await wired.service.setMode(vehicleId, 'now');
      await ha.waitFor((m) => m.topic === t('smart_charging_mode') && m.payload === 'now', 'now', since);
      await wired.service.setMode(vehicleId, 'smart');
    });

    it('one link: a second car linked in the service appears in the bridge without a restart', async () => {
      const [second] = await linkDemoFleet({ sim, api: wired.api, fleet: [SECOND_CAR!] });
      await wired.service.replan('second car');
      const deadline = Date.now() + 10_000;
      while (bridge.vehicleSlugs().length < 2 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(bridge.vehicleSlugs()).toHaveLength(2);
      const secondSlug = bridge.vehicleSlugs().find((candidate) => candidate !== slug)!;
      await ha.waitFor(
        (m) => m.topic === `${base}/${secondSlug}/smart_charging_mode` && m.payload === 'smart',
        'second car in HA',
      );
      expect(second!.vehicleId).toBeDefined();
    });

    it('no vehicle token and no API token ever reach MQTT or the API’s answers', async () => {
      const store = sqlTokenStore(db, cipher);
      const grants = await wired.api.activeGrantIds();
      const secrets: string[] = [bridgeToken];
      for (const grantId of grants) {
        const access = await store.get(grantId);
        if (access) secrets.push(access.accessToken, access.refreshToken);
      }
      expect(secrets.length).toBeGreaterThan(1);
      const everything = ha.messages.map((m) => `${m.topic} ${m.payload}`).join('\n');
      for (const secret of secrets) expect(everything).not.toContain(secret);
      // Even an admin token reads no vehicle token from any route the bridge uses.
      const answers = await Promise.all(
        ['api/grants', 'api/vehicles', `api/vehicles/${vehicleId}`, 'api/dashboard', 'api/me'].map(
          async (path) =>
            (
              await fetch(new URL(path, wired.url), { headers: { authorization: `Bearer ${bridgeToken}` } })
            ).text(),
        ),
      );
      for (const secret of secrets.slice(1))
        for (const answer of answers) expect(answer).not.toContain(secret);
    });
  },
);

describe('what the bridge’s API token may do (the standalone layout)', () => {
  let sim: Simulator;
  let db: SqlClient;
  let service: EmbeddedService;
  let wired: WiredService;
  let vehicleId: string;

  beforeAll(async () => {
    service = await startEmbeddedService(START);
    ({ sim, db, wired } = service);
    const [linked] = await linkDemoFleet({ sim, api: wired.api, fleet: [FIRST_CAR!] });
    vehicleId = linked!.vehicleId;
  }, 120_000);
  afterAll(async () => {
    await service?.close();
  });

  it('a read token shows everything and changes nothing; an unknown token is refused, and never echoed', async () => {
    const reader = (await createOperatorToken(db, { name: 'bridge (read)', role: 'read' })).token;
    const readLink = createSmartChargingLink(httpTransport({ serviceUrl: wired.url, apiToken: reader }));
    expect((await readLink.snapshot()).get(vehicleId)?.mode).toBe('smart');
    const refused = await readLink.setMode(vehicleId, 'now').catch((error: unknown) => error as Error);
    expect(refused).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('admin token') });
    expect(wired.service.modeOf(vehicleId)).toBe('smart');
    const changed = await readLink
      .updatePreferences(vehicleId, { targetSocPercent: 50 })
      .catch((error: unknown) => error as Error);
    expect(changed).toMatchObject({ code: 'FORBIDDEN' });

    const forged = `${reader.slice(0, -4)}AAAA`;
    const unknown = await createSmartChargingLink(httpTransport({ serviceUrl: wired.url, apiToken: forged }))
      .vehicles()
      .catch((error: unknown) => error as Error);
    expect(unknown).toMatchObject({ code: 'REFUSED' });
    expect((unknown as Error).message).not.toContain(forged);
  });

  it('nobody signed in gets the grants, and the grants list carries no token', async () => {
    const session = await fetch(new URL('api/grants', wired.url));
    expect(session.status).toBe(401);
    const admin = (await createOperatorToken(db, { name: 'probe', role: 'admin' })).token;
    const page = (await (
      await fetch(new URL('api/grants', wired.url), { headers: { authorization: `Bearer ${admin}` } })
    ).json()) as { items: Record<string, unknown>[]; nextCursor: string | null };
    expect(Object.keys(page).sort()).toEqual(['items', 'nextCursor']);
    const grants = page.items;
    expect(grants.length).toBeGreaterThan(0);
    for (const grant of grants)
      expect(Object.keys(grant).sort()).toEqual(['id', 'scopes', 'status', 'statusReason', 'vehicleIds']);
  });
});

afterAll(() => {
  // The measured HA change → re-plan visible latencies, for the report.
  console.log(latencies.join('\n'));
});
