/** One demo car: an owner's account in the simulator, the model from the catalog and how it arrives home. */
export interface DemoCar {
  readonly brand: string;
  readonly model: string;
  readonly owner: string;
  readonly email: string;
  /** State of charge on arrival (fraction); absent for a car without a traction battery. */
  readonly arrivalSoc?: number;
  /** Usable battery, kWh, as the simulator's catalog has it (energy bookkeeping in the scenario). */
  readonly batteryKwh?: number;
  /** What the car draws from the 7.4 kW wallbox (a PHEV's on-board charger takes 3.7 kW). */
  readonly chargerKw?: number;
}

/**
 * One car per brand named in the seeds (DS, Citroën, BMW, INFINITI) plus a Tesla and a Kia. INFINITI builds
 * no electric car: Connect refuses the Q50 the service's `required:read_battery` (`vehicle_incompatible`).
 */
export const DEMO_FLEET: readonly DemoCar[] = [
  {
    brand: 'DS',
    model: 'DS 3 Crossback E-Tense',
    owner: 'Amélie',
    email: 'amelie@demo.voltkit.dev',
    arrivalSoc: 0.32,
    batteryKwh: 46,
  },
  {
    brand: 'CITROEN',
    model: 'ë-C4',
    owner: 'Bruno',
    email: 'bruno@demo.voltkit.dev',
    arrivalSoc: 0.27,
    batteryKwh: 46,
  },
  {
    brand: 'BMW',
    model: 'i8',
    owner: 'Clara',
    email: 'clara@demo.voltkit.dev',
    arrivalSoc: 0.18,
    batteryKwh: 11.6,
    chargerKw: 3.7,
  },
  { brand: 'INFINITI', model: 'Q50', owner: 'Dmitri', email: 'dmitri@demo.voltkit.dev' },
  {
    brand: 'TESLA',
    model: 'Model 3',
    owner: 'Elif',
    email: 'elif@demo.voltkit.dev',
    arrivalSoc: 0.41,
    batteryKwh: 75,
  },
  {
    brand: 'KIA',
    model: 'EV6',
    owner: 'Farid',
    email: 'farid@demo.voltkit.dev',
    arrivalSoc: 0.35,
    batteryKwh: 77.4,
  },
];

export const STATION_KW = 7.4;
