/** Response bodies copied from the wire reference (vehicle-api.md), keyed by vehicle endpoint method name. */
export const VEHICLE_ID = '36ab27d0-fd9d-4455-823a-ce30af709ffc';
export const USER_ID = 'e0514ef4-5226-11e8-8c13-8f6e8f02e27e';
export const REQUEST_ID = '5dea93a1-3f79-4246-90c5-89610a20471b';
export const DATA_AGE = '2018-05-04T07:20:50.844Z';
export const FETCHED_AT = '2018-05-04T07:25:00.000Z';

export const DATA_BODIES = {
  attributes: { id: '36ab27d0-fd9d-4455-823a-ce30af709ffc', make: 'TESLA', model: 'Model 3', year: 2019 },
  vin: { vin: '5YJ3E1EA1KF123456' },
  location: { latitude: 37.4292, longitude: -122.1381 },
  odometer: { distance: 104.32 },
  battery: { percentRemaining: 0.3, range: 40.5 },
  batteryCapacity: { capacity: 28.2 },
  nominalCapacity: {
    availableCapacities: [
      { capacity: 70.9, description: null },
      { capacity: 90.9, description: 'BEV:Extended Range' },
    ],
    capacity: { nominal: 80.9, source: 'USER_SELECTED' },
    url: null,
  },
  charge: { isPluggedIn: true, state: 'CHARGING' },
  getChargeLimit: { limit: 0.7 },
  fuel: { amountRemaining: 53.2, percentRemaining: 0.3, range: 40.5 },
  tirePressure: { frontLeft: 219.3, frontRight: 219.3, backLeft: 219.3, backRight: 219.3 },
  engineOil: { lifeRemaining: 0.35 },
  lockStatus: {
    isLocked: true,
    doors: [
      { type: 'frontLeft', status: 'CLOSED' },
      { type: 'frontRight', status: 'CLOSED' },
      { type: 'backLeft', status: 'CLOSED' },
      { type: 'backRight', status: 'CLOSED' },
    ],
    windows: [{ type: 'frontLeft', status: 'CLOSED' }],
    sunroof: [{ type: 'sunroof', status: 'CLOSED' }],
    storage: [
      { type: 'rear', status: 'CLOSED' },
      { type: 'front', status: 'CLOSED' },
    ],
    chargingPort: [{ type: 'chargingPort', status: 'CLOSED' }],
  },
  diagnosticSystemStatus: {
    systems: [
      { systemId: 'SYSTEM_TPMS', status: 'ALERT', description: 'Tire pressure low' },
      { systemId: 'SYSTEM_ABS', status: 'OK', description: null },
    ],
  },
  diagnosticTroubleCodes: {
    activeCodes: [
      { code: 'P302D', timestamp: '2024-09-05T14:48:00.000Z' },
      { code: 'P0420', timestamp: null },
    ],
  },
  serviceHistory: [
    {
      serviceId: 12345,
      serviceDate: '2023-06-28T22:21:41.583Z',
      odometerDistance: 46047.22,
      serviceTasks: [{ taskId: '3262', taskDescription: 'oil change' }],
      serviceDetails: [{ type: 'dealership', value: null }],
      serviceCost: { totalCost: 100, currency: 'USD' },
    },
  ],
  permissions: { permissions: ['read_battery', 'read_charge'], paging: { count: 2, offset: 0 } },
} as const;

export const COMMAND_SUCCESS = {
  status: 'success',
  message: 'Successfully sent request to vehicle',
} as const;

export const TOKEN_BODY = {
  access_token: '8e4a7f4e-1d6b-4b0c-9d2f-2a5b9d8e3c11',
  token_type: 'Bearer',
  expires_in: 7200,
  refresh_token: '0b2e6f0a-7c1d-4e6a-9f3b-5d8c2a1e4b77',
} as const;

export const COMPATIBILITY_BODY = {
  compatible: true,
  reason: null,
  capabilities: [
    { permission: 'read_odometer', endpoint: '/odometer', capable: true, reason: null },
    { permission: 'read_location', endpoint: '/location', capable: false, reason: 'VEHICLE_NOT_CAPABLE' },
  ],
} as const;

export const MATRIX_BODY = {
  NISSAN: [
    {
      model: 'LEAF',
      startYear: 2018,
      endYear: 2022,
      type: 'BEV',
      endpoints: ['EV battery', 'EV charging status'],
      permissions: ['read_battery', 'read_charge'],
    },
  ],
} as const;

export const CONNECTIONS_BODY = {
  connections: [
    {
      userId: 'e0514ef4-5226-11e8-8c13-8f6e8f02e27e',
      vehicleId: '36ab27d0-fd9d-4455-823a-ce30af709ffc',
      connectedAt: '2024-01-01T00:00:00.000Z',
      mode: 'live',
    },
  ],
  paging: { cursor: null },
} as const;

/** A v2 error body as the API sends it. */
export function errorBody(
  type: string,
  code: string | null,
  statusCode: number,
  description = 'Something went wrong.',
): Record<string, unknown> {
  return {
    type,
    code,
    description,
    docURL: `https://smartcar.com/docs/errors/api-errors/${type.toLowerCase().replaceAll('_', '-')}-errors#${code === null ? 'null' : code.toLowerCase().replaceAll('_', '-')}`,
    statusCode,
    requestId: REQUEST_ID,
    resolution: { type: 'RETRY_LATER' },
    suggestedUserMessage: 'Please try again later.',
  };
}
