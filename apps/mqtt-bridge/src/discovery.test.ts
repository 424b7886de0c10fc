/* eslint-disable @typescript-eslint/no-explicit-any -- tests inspect parsed JSON payloads freely */
import { describe, expect, it } from 'vitest';
import {
  buildBridgeDiscovery,
  buildComponentDiscovery,
  buildDeviceDiscovery,
  discoveryRemovals,
} from './discovery.ts';
import type { DiscoveryVehicle } from './discovery.ts';
import { ENTITY_CATALOG, entitiesFor } from './entities.ts';
import { validateComponentDiscovery, validateDeviceDiscovery } from './ha-discovery-schema.ts';
import { createTopics } from './topics.ts';
import { VEHICLE_FIELDS } from './vehicle-source.ts';

const topics = createTopics('voltkit', 'homeassistant');
const vehicle: DiscoveryVehicle = {
  slug: '5YJ3E1EA7KF000001',
  name: 'Family EV',
  info: { id: 'c1', vin: '5YJ3E1EA7KF000001', make: 'TESLA', model: 'Model 3', year: 2024 },
  entities: entitiesFor(new Set(VEHICLE_FIELDS), true),
};

type Json = Record<string, any>;
/** Every entity a car gets with a charge plan file but no smart-charging service. */
const WITHOUT_SERVICE = ENTITY_CATALOG.filter((entity) => entity.requires !== 'smartCharging');

describe('Home Assistant device discovery', () => {
  const message = buildDeviceDiscovery(vehicle, { topics, currency: 'EUR' });
  const payload = JSON.parse(message.payload) as Json;

  it('is one retained device payload that passes HA’s schema for every component', () => {
    expect(message.topic).toBe('homeassistant/device/voltkit_5YJ3E1EA7KF000001/config');
    expect(validateDeviceDiscovery(payload)).toEqual({ success: true });
    expect(Object.keys(payload['components'])).toHaveLength(WITHOUT_SERVICE.length);
  });

  it('carries origin, device info and bridge + vehicle availability', () => {
    expect(payload['origin']).toMatchObject({ name: 'Voltkit MQTT bridge' });
    expect(payload['device']).toMatchObject({
      identifiers: ['voltkit_5YJ3E1EA7KF000001'],
      manufacturer: 'Tesla',
      model: 'Model 3',
      serial_number: '5YJ3E1EA7KF000001',
      via_device: 'voltkit_bridge',
    });
    expect(payload['device']).not.toHaveProperty('model_id'); // the year is not a model id
    expect(payload['availability']).toEqual([
      { topic: 'voltkit/bridge/state' },
      { topic: 'voltkit/bridge/api' },
      { topic: 'voltkit/5YJ3E1EA7KF000001/availability' },
    ]);
    expect(payload['availability_mode']).toBe('all');
  });

  it('uses a VIN-based default_entity_id with the domain, and object_id as the fallback for HA before 2025.10', () => {
    for (const [key, component] of Object.entries(payload['components'] as Record<string, Json>)) {
      expect(component['default_entity_id']).toBe(
        `${component['platform']}.voltkit_5yj3e1ea7kf000001_${key}`,
      );
      expect(component['object_id']).toBe(`voltkit_5yj3e1ea7kf000001_${key}`);
      expect(component['unique_id']).toBe(`voltkit_5YJ3E1EA7KF000001_${key}`);
    }
  });

  it('picks the right component, device_class, state_class and unit', () => {
    const c = payload['components'] as Record<string, Json>;
    expect(c['soc']).toMatchObject({
      platform: 'sensor',
      device_class: 'battery',
      state_class: 'measurement',
      unit_of_measurement: '%',
    });
    expect(c['odometer']).toMatchObject({
      device_class: 'distance',
      state_class: 'total_increasing',
      unit_of_measurement: 'km',
    });
    expect(c['plugged_in']).toMatchObject({ platform: 'binary_sensor', device_class: 'plug' });
    expect(c['charging']).toMatchObject({
      platform: 'switch',
      command_topic: 'voltkit/5YJ3E1EA7KF000001/charging/set',
    });
    expect(c['charge_limit']).toMatchObject({
      platform: 'number',
      device_class: 'battery',
      min: 50,
      max: 100,
    });
    expect(c['lock']).toMatchObject({
      platform: 'lock',
      state_locked: 'LOCKED',
      command_topic: 'voltkit/5YJ3E1EA7KF000001/lock/set',
    });
    expect(c['location']).toMatchObject({
      platform: 'device_tracker',
      json_attributes_topic: 'voltkit/5YJ3E1EA7KF000001/location',
    });
    expect(c['location']).not.toHaveProperty('state_topic');
    expect(c['fuel']).not.toHaveProperty('device_class');
    expect(c['command_result']).toMatchObject({
      platform: 'event',
      state_topic: 'voltkit/5YJ3E1EA7KF000001/event',
    });
    expect(c['next_charge_cost']).toMatchObject({
      device_class: 'monetary',
      unit_of_measurement: 'EUR',
      state_class: 'total',
    });
    expect(c['battery_capacity']).toMatchObject({
      device_class: 'energy_storage',
      unit_of_measurement: 'kWh',
      entity_category: 'diagnostic',
    });
  });

  it('only offers entities for what the car supports', () => {
    const combustion = {
      ...vehicle,
      entities: entitiesFor(new Set(['fuel', 'odometer', 'location', 'engineOil'] as const), false),
    };
    const keys = Object.keys(
      (JSON.parse(buildDeviceDiscovery(combustion, { topics }).payload) as Json)['components'],
    );
    expect(keys).toContain('fuel');
    expect(keys).not.toContain('soc');
    expect(keys).not.toContain('charging');
    expect(keys).not.toContain('next_charge_cost');
  });

  it('removes a component by shrinking it to its platform', () => {
    const removed = buildDeviceDiscovery(vehicle, { topics }, [{ key: 'oil_life', platform: 'sensor' }]);
    const parsed = JSON.parse(removed.payload) as Json;
    expect(parsed['components']['oil_life']).toEqual({ platform: 'sensor' });
    expect(validateDeviceDiscovery(parsed)).toEqual({ success: true });
  });
});

describe('per-component discovery', () => {
  it('publishes one payload per entity, each valid for its platform', () => {
    const messages = buildComponentDiscovery(vehicle, { topics });
    expect(messages).toHaveLength(WITHOUT_SERVICE.length);
    for (const message of messages) {
      const platform = message.topic.split('/')[1]!;
      const result = validateComponentDiscovery(platform, JSON.parse(message.payload));
      expect(result, message.topic).toEqual({ success: true });
    }
    expect(messages.map((m) => m.topic)).toContain(
      'homeassistant/sensor/voltkit_5YJ3E1EA7KF000001/soc/config',
    );
  });

  it('has a bridge device in both modes, and removals for every topic', () => {
    const device = buildBridgeDiscovery({ topics }, 'device')[0]!;
    expect(validateDeviceDiscovery(JSON.parse(device.payload))).toEqual({ success: true });
    const component = buildBridgeDiscovery({ topics }, 'component')[0]!;
    expect(validateComponentDiscovery('binary_sensor', JSON.parse(component.payload))).toEqual({
      success: true,
    });
    const removals = discoveryRemovals(vehicle.slug, vehicle.entities, topics);
    expect(removals.every((r) => r.payload === '')).toBe(true);
    expect(removals).toHaveLength(vehicle.entities.length + 1);
  });
});

describe('the HA schema catches what HA would reject', () => {
  const good = JSON.parse(buildDeviceDiscovery(vehicle, { topics }).payload) as Json;
  const mutate = (change: (p: Json) => void): Json => {
    const copy = structuredClone(good);
    change(copy);
    return copy;
  };
  it.each([
    ['object_id', (p: Json) => (p['components']['soc']['object_id'] = 'x')],
    ['wrong unit for battery', (p: Json) => (p['components']['soc']['unit_of_measurement'] = 'kWh')],
    ['state_class on an enum', (p: Json) => (p['components']['charge_state']['state_class'] = 'measurement')],
    [
      'measurement odometer ok but total_increasing battery not',
      (p: Json) => (p['components']['soc']['state_class'] = 'total_increasing'),
    ],
    ['missing origin', (p: Json) => delete p['origin']],
    ['missing unique_id', (p: Json) => delete p['components']['range']['unique_id']],
    [
      'default_entity_id without domain',
      (p: Json) => (p['components']['range']['default_entity_id'] = 'family_ev_range'),
    ],
    ['misspelt key', (p: Json) => (p['components']['lock']['state_lockd'] = 'LOCKED')],
    ['wildcard topic', (p: Json) => (p['components']['soc']['state_topic'] = 'voltkit/+/soc')],
    ['event without types', (p: Json) => (p['components']['command_result']['event_types'] = [])],
    ['number min above max', (p: Json) => (p['components']['charge_limit']['min'] = 200)],
  ])('rejects %s', (_label, change) => {
    const result = validateDeviceDiscovery(mutate(change));
    expect(result.success).toBe(false);
  });
});

describe('Home Assistant’s rules for the telemetry, security and naming entities (issue 14)', () => {
  const message = buildDeviceDiscovery(vehicle, {
    topics,
    currency: 'EUR',
    configurationUrl: 'http://127.0.0.1:8099',
  });
  const payload = JSON.parse(message.payload) as Json;
  const c = payload['components'] as Record<string, Json>;

  it('describes each new entity as HA expects, and passes the schema', () => {
    expect(validateDeviceDiscovery(payload)).toEqual({ success: true });
    expect(c['charging_power']).toMatchObject({
      device_class: 'power',
      unit_of_measurement: 'kW',
      state_class: 'measurement',
    });
    expect(c['energy_added']).toMatchObject({
      device_class: 'energy',
      unit_of_measurement: 'kWh',
      state_class: 'total_increasing',
    });
    expect(c['time_to_full']).toMatchObject({ device_class: 'duration', unit_of_measurement: 'min' });
    expect(c['charge_complete']).toMatchObject({ device_class: 'timestamp' });
    expect(c['charge_complete']).not.toHaveProperty('state_class');
    expect(c['fuel_amount']).toMatchObject({ device_class: 'volume_storage', unit_of_measurement: 'L' });
    for (const [key, deviceClass] of [
      ['doors', 'door'],
      ['windows', 'window'],
      ['sunroof', 'window'],
      ['trunk', 'opening'],
      ['frunk', 'opening'],
      ['charge_port', 'opening'],
    ] as const)
      expect(c[key]).toMatchObject({ platform: 'binary_sensor', device_class: deviceClass });
    expect(c['charge_event']).toMatchObject({
      platform: 'event',
      state_topic: 'voltkit/5YJ3E1EA7KF000001/charge_event',
      event_types: ['plugged_in', 'unplugged', 'charge_started', 'charge_stopped', 'charge_completed'],
    });
    // Derived values say how in their attributes; read values show their age.
    expect(c['charging_power']!['json_attributes_topic']).toBe(
      'voltkit/5YJ3E1EA7KF000001/attributes/charging_telemetry',
    );
    expect(c['soc']!['json_attributes_topic']).toBe('voltkit/5YJ3E1EA7KF000001/attributes/battery');
    expect(payload['device']).toMatchObject({ configuration_url: 'http://127.0.0.1:8099' });
  });

  it('keeps noisy diagnostics off by default and Refresh on', () => {
    expect(c['requests_remaining']).toMatchObject({ enabled_by_default: false });
    expect(c['last_updated']).toMatchObject({ enabled_by_default: false });
    expect(c['refresh']).not.toHaveProperty('enabled_by_default');
  });

  it('offers the vehicle API state on the bridge device', () => {
    const [bridge] = buildBridgeDiscovery({ topics }, 'device');
    const body = JSON.parse(bridge!.payload) as Json;
    expect(validateDeviceDiscovery(body)).toEqual({ success: true });
    expect(body['components']['vehicle_api']).toMatchObject({
      device_class: 'connectivity',
      state_topic: 'voltkit/bridge/api',
    });
  });

  it('rejects what HA would reject, and reads abbreviations as HA does', () => {
    const sensor = (extra: Json): Json => ({
      platform: 'sensor',
      unique_id: 'u',
      state_topic: 's/t',
      ...extra,
    });
    const device = (component: Json): Json => ({
      device: { identifiers: ['d'] },
      origin: { name: 'o' },
      components: { x: component },
    });
    expect(
      validateDeviceDiscovery(device(sensor({ device_class: 'power', unit_of_measurement: 'kWh' }))).success,
    ).toBe(false);
    expect(
      validateDeviceDiscovery(
        device(sensor({ device_class: 'energy', unit_of_measurement: 'kWh', state_class: 'measurement' })),
      ).success,
    ).toBe(false);
    expect(
      validateDeviceDiscovery(device(sensor({ device_class: 'timestamp', state_class: 'measurement' })))
        .success,
    ).toBe(false);
    expect(
      validateDeviceDiscovery(
        device(
          sensor({
            device_class: 'volume_storage',
            unit_of_measurement: 'L',
            state_class: 'total_increasing',
          }),
        ),
      ).success,
    ).toBe(false);
    expect(validateDeviceDiscovery(device(sensor({ object_id: 'alone' }))).success).toBe(false);
    expect(
      validateDeviceDiscovery(device(sensor({ default_entity_id: 'sensor.a', object_id: 'b' }))).success,
    ).toBe(false);
    expect(
      validateDeviceDiscovery({
        dev: { ids: ['d'], mf: 'Tesla' },
        o: { name: 'o', sw: '1' },
        cmps: {
          x: {
            p: 'sensor',
            uniq_id: 'u',
            stat_t: 's/t',
            dev_cla: 'power',
            unit_of_meas: 'kW',
            stat_cla: 'measurement',
          },
        },
      }),
    ).toEqual({ success: true });
    expect(validateDeviceDiscovery(device(sensor({ stat_t: 'other' }))).success).toBe(false);
  });
});

describe('smart-charging entities in discovery', () => {
  const linked: DiscoveryVehicle = {
    ...vehicle,
    entities: entitiesFor(new Set(VEHICLE_FIELDS), false, new Set(), true),
  };
  const payload = JSON.parse(buildDeviceDiscovery(linked, { topics, currency: 'EUR' }).payload) as Json;
  const c = payload['components'] as Record<string, Json>;
  const vt = 'voltkit/5YJ3E1EA7KF000001';

  it('offers mode, targets, departure and the plan’s sensors, each valid for HA', () => {
    expect(validateDeviceDiscovery(payload)).toEqual({ success: true });
    expect(c['smart_charging_mode']).toMatchObject({
      platform: 'select',
      options: ['smart', 'now', 'off'],
      state_topic: `${vt}/smart_charging_mode`,
      command_topic: `${vt}/smart_charging_mode/set`,
    });
    for (const key of ['target_soc', 'minimum_soc'])
      expect(c[key]).toMatchObject({
        platform: 'number',
        device_class: 'battery',
        unit_of_measurement: '%',
        command_topic: `${vt}/${key}/set`,
      });
    expect(c['departure_time']).toMatchObject({ platform: 'text', min: 3, max: 5, mode: 'text' });
    const pattern = new RegExp(c['departure_time']!['pattern'] as string);
    expect(['07:30', '23:59', 'off'].every((value) => pattern.test(value))).toBe(true);
    expect(['7:30', '24:00', '07:60', 'never'].some((value) => pattern.test(value))).toBe(false);
    expect(c['next_charge_energy']).toMatchObject({ device_class: 'energy', unit_of_measurement: 'kWh' });
    expect(c['next_charge_energy']).not.toHaveProperty('state_class');
    expect(c['expected_soc_at_departure']).toMatchObject({
      device_class: 'battery',
      state_class: 'measurement',
      unit_of_measurement: '%',
    });
    expect(c['planned_savings']).toMatchObject({
      device_class: 'monetary',
      state_class: 'total',
      unit_of_measurement: 'EUR',
    });
    // The plan's slots ride on the next charge start, for chart cards.
    expect(c['next_charge_start']!['json_attributes_topic']).toBe(`${vt}/attributes/smart_charging`);
  });

  it('has none of them without the service', () => {
    expect(
      Object.keys(JSON.parse(buildDeviceDiscovery(vehicle, { topics }).payload).components),
    ).not.toContain('smart_charging_mode');
  });

  it('passes per-component discovery too, and the schema refuses broken selects and texts', () => {
    for (const message of buildComponentDiscovery(linked, { topics, currency: 'EUR' })) {
      const platform = message.topic.split('/')[1]!;
      expect(validateComponentDiscovery(platform, JSON.parse(message.payload))).toEqual({ success: true });
    }
    const base = { unique_id: 'u', command_topic: 'c/t' };
    expect(validateComponentDiscovery('select', { ...base }).success).toBe(false);
    expect(validateComponentDiscovery('select', { ...base, options: ['a', 'a'] }).success).toBe(false);
    expect(validateComponentDiscovery('select', { ...base, ops: ['a', 'b'] })).toEqual({ success: true });
    expect(validateComponentDiscovery('text', { ...base, min: 6, max: 5 }).success).toBe(false);
    expect(validateComponentDiscovery('text', { ...base, max: 300 }).success).toBe(false);
    expect(validateComponentDiscovery('text', { ...base, pattern: '(' }).success).toBe(false);
    expect(validateComponentDiscovery('text', { ...base, optimistic: true }).success).toBe(false);
  });
});
