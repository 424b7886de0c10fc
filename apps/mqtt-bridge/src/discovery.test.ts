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

describe('Home Assistant device discovery', () => {
  const message = buildDeviceDiscovery(vehicle, { topics, currency: 'EUR' });
  const payload = JSON.parse(message.payload) as Json;

  it('is one retained device payload that passes HA’s schema for every component', () => {
    expect(message.topic).toBe('homeassistant/device/voltkit_5YJ3E1EA7KF000001/config');
    expect(validateDeviceDiscovery(payload)).toEqual({ success: true });
    expect(Object.keys(payload['components'])).toHaveLength(ENTITY_CATALOG.length);
  });

  it('carries origin, device info and bridge + vehicle availability', () => {
    expect(payload['origin']).toMatchObject({ name: 'Voltkit MQTT bridge' });
    expect(payload['device']).toMatchObject({
      identifiers: ['voltkit_5YJ3E1EA7KF000001'],
      manufacturer: 'TESLA',
      model: 'Model 3',
      serial_number: '5YJ3E1EA7KF000001',
      via_device: 'voltkit_bridge',
    });
    expect(payload['availability']).toEqual([
      { topic: 'voltkit/bridge/state' },
      { topic: 'voltkit/5YJ3E1EA7KF000001/availability' },
    ]);
    expect(payload['availability_mode']).toBe('all');
  });

  it('uses default_entity_id with the domain and never object_id', () => {
    for (const [key, component] of Object.entries(payload['components'] as Record<string, Json>)) {
      expect(component['default_entity_id']).toBe(`${component['platform']}.family_ev_${key}`);
      expect(component).not.toHaveProperty('object_id');
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
    expect(messages).toHaveLength(ENTITY_CATALOG.length);
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
