import type { VehicleView } from '../service/http/api-routes.ts';
import type { DashboardData } from '../service/http/dashboard-data.ts';
import type { ChargingPreferences } from '../store/preferences.ts';
import { apiGet, apiGetAll, apiSend, reconnect, whoAmI } from './api-client.ts';
import { byId, h, poll, showProblem } from './dom.ts';
import { formatLocal, formatMoney, formatPercent, UNKNOWN } from './format.ts';
import { drawLoadChart, slotMinutesOf } from './load-chart-view.ts';

const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
const preferences = new Map<string, ChargingPreferences>();

/** Planned SoC when the car leaves: the trajectory's value at the end of the slot the departure falls in. */
function socAtDeparture(data: DashboardData, vehicle: DashboardData['vehicles'][number]): number | null {
  if (vehicle.departure === null || vehicle.socTrajectory.length === 0) return null;
  const departure = Date.parse(vehicle.departure);
  const slotMs = slotMinutesOf(data) * 60_000;
  let index = data.fleet.slots.findIndex((slot) => Date.parse(slot.start) + slotMs >= departure);
  if (index === -1) index = vehicle.socTrajectory.length - 1;
  return vehicle.socTrajectory[index] ?? null;
}

/** End of the last slot with planned charging (ISO), or null when nothing is planned. */
function chargingEnds(data: DashboardData, vehicleId: string): string | null {
  const slotMs = slotMinutesOf(data) * 60_000;
  const last = data.fleet.slots.findLastIndex((slot) => (slot.plannedKw[vehicleId] ?? 0) > 0);
  return last === -1 ? null : new Date(Date.parse(data.fleet.slots[last]!.start) + slotMs).toISOString();
}

function editor(vehicle: VehicleView, stored: ChargingPreferences): HTMLElement {
  const usual = WEEKDAYS.map((day) => stored.departures[day]).find((time) => time !== null) ?? '';
  const id = (name: string): string => `${name}-${vehicle.id}`;
  return h(
    'form',
    { class: 'preferences', 'data-preferences': vehicle.id },
    h('label', { for: id('departure') }, 'Leaves every day at'),
    h('input', { id: id('departure'), name: 'departure', type: 'time', value: usual, required: true }),
    h('label', { for: id('target') }, 'Target %'),
    h('input', {
      id: id('target'),
      name: 'target',
      type: 'number',
      min: '5',
      max: '100',
      step: '1',
      value: String(Math.round(stored.targetSoc * 100)),
    }),
    h('label', { for: id('minimum') }, 'Minimum % (charged at once)'),
    h('input', {
      id: id('minimum'),
      name: 'minimum',
      type: 'number',
      min: '0',
      max: '100',
      step: '1',
      value: String(Math.round(stored.minimumSoc * 100)),
    }),
    h('button', { type: 'submit' }, 'Save'),
    h('span', { class: 'error', role: 'alert', hidden: true }),
  );
}

function card(data: DashboardData, vehicle: VehicleView, stored: ChargingPreferences): HTMLElement {
  const planned = data.vehicles.find((candidate) => candidate.id === vehicle.id);
  const expected = planned ? socAtDeparture(data, planned) : null;
  const saving =
    planned && planned.costPlanned !== null && planned.costOnArrival !== null
      ? planned.costOnArrival - planned.costPlanned
      : null;
  const ends = chargingEnds(data, vehicle.id);
  const chart = h('div', { class: 'chart' });
  const element = h(
    'article',
    { class: 'car', 'data-vehicle': vehicle.id, 'aria-labelledby': `name-${vehicle.id}` },
    h('h2', { id: `name-${vehicle.id}` }, `${vehicle.make} ${vehicle.model}`),
    vehicle.reconnectPath
      ? h(
          'p',
          { class: 'banner' },
          `The connection to your car stopped working (${vehicle.grantStatusReason ?? vehicle.grantStatus}). `,
          h(
            'button',
            { type: 'button', class: 'reconnect link', 'data-reconnect': vehicle.reconnectPath },
            'Reconnect your car',
          ),
        )
      : null,
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Charge'),
      h('dd', { class: 'soc' }, formatPercent(vehicle.state?.soc ?? null)),
      h('dt', {}, 'Plugged in'),
      h('dd', { class: 'plugged' }, vehicle.state ? (vehicle.state.pluggedIn ? 'yes' : 'no') : UNKNOWN),
      h('dt', {}, 'Charging'),
      h('dd', { class: 'charging' }, vehicle.state?.charging ?? UNKNOWN),
      h('dt', {}, 'Next departure'),
      h('dd', { class: 'departure' }, formatLocal(vehicle.nextDeparture, data.timeZone)),
      h('dt', {}, 'Expected at departure'),
      h('dd', { class: 'expected-soc' }, formatPercent(expected)),
      h('dt', {}, 'Charging planned until'),
      h(
        'dd',
        { class: 'charging-ends', 'data-ends': ends ?? '' },
        ends === null ? 'nothing to charge' : formatLocal(ends, data.timeZone),
      ),
      h('dt', {}, 'Planned cost'),
      h('dd', { class: 'cost' }, formatMoney(planned?.costPlanned ?? null, data.currency)),
      h('dt', {}, 'Saving against charging on arrival'),
      h('dd', { class: 'saving' }, formatMoney(saving, data.currency)),
    ),
    planned?.shortfall ? h('p', { class: 'banner' }, planned.shortfall) : null,
    h(
      'p',
      {},
      h(
        'button',
        {
          type: 'button',
          'data-charge-now': vehicle.id,
          'data-enabled': vehicle.chargeNow ? 'true' : 'false',
        },
        vehicle.chargeNow ? 'Back to smart charging' : 'Charge now',
      ),
      ' ',
      h(
        'span',
        { class: 'mode' },
        vehicle.chargeNow
          ? 'Charging now, whatever the price.'
          : 'Smart charging: cheapest hours before you leave.',
      ),
    ),
    editor(vehicle, stored),
    chart,
  );
  const slots = data.fleet.slots.map((slot) => ({
    ...slot,
    baseLoadKw: 0,
    limitKw: null,
    plannedKw: { [vehicle.id]: slot.plannedKw[vehicle.id] ?? 0 },
  }));
  drawLoadChart(chart, data, {
    slots,
    maxSeries: 1,
    height: 260,
    width: 640,
    title: `Charging plan of ${vehicle.make} ${vehicle.model}`,
  });
  return element;
}

async function refresh(): Promise<void> {
  const status = byId('refresh-status');
  try {
    const [data, { items: vehicles }] = await Promise.all([
      apiGet<DashboardData>('api/dashboard'),
      apiGetAll<VehicleView>('api/vehicles'),
    ]);
    for (const vehicle of vehicles)
      if (!preferences.has(vehicle.id))
        preferences.set(
          vehicle.id,
          await apiGet<ChargingPreferences>(`api/vehicles/${encodeURIComponent(vehicle.id)}/preferences`),
        );
    // Keep what the owner is typing: a card with a focused field is not redrawn.
    const list = byId('cars');
    const focused = (document.activeElement as HTMLElement | null)?.closest<HTMLElement>('article.car')
      ?.dataset['vehicle'];
    const cards = vehicles.map((vehicle) =>
      vehicle.id === focused
        ? list.querySelector<HTMLElement>(`article.car[data-vehicle="${CSS.escape(vehicle.id)}"]`)!
        : card(data, vehicle, preferences.get(vehicle.id)!),
    );
    list.replaceChildren(...(cards.length > 0 ? cards : [h('p', {}, 'No cars are connected yet.')]));
    const banner = byId('price-banner');
    banner.textContent = data.prices.problem ?? '';
    banner.hidden = data.prices.problem === null;
    status.textContent = `updated ${formatLocal(data.generatedAt, data.timeZone)}`;
    status.classList.remove('error');
    document.body.dataset['loaded'] = 'true';
  } catch (error) {
    showProblem(status, error);
    status.classList.add('error');
  }
}

function wire(live: { now: () => Promise<void> }): void {
  const cars = byId('cars');
  cars.addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const vehicleId = form.dataset['preferences']!;
    const stored = preferences.get(vehicleId)!;
    const field = (name: string): string => (form.elements.namedItem(name) as HTMLInputElement).value;
    const departure = field('departure');
    const next: ChargingPreferences = {
      ...stored,
      departures: Object.fromEntries(
        WEEKDAYS.map((day) => [day, departure]),
      ) as ChargingPreferences['departures'],
      targetSoc: Number(field('target')) / 100,
      minimumSoc: Number(field('minimum')) / 100,
    };
    const problem = form.querySelector<HTMLElement>('.error')!;
    problem.hidden = true;
    apiSend<{ preferences: ChargingPreferences; replan: { ok: boolean; error?: string } }>(
      'PUT',
      `api/vehicles/${encodeURIComponent(vehicleId)}/preferences`,
      next,
    )
      .then(async (answer) => {
        preferences.set(vehicleId, answer.preferences);
        if (!answer.replan.ok)
          showProblem(problem, `saved, but planning failed: ${answer.replan.error ?? 'unknown'}`);
        (document.activeElement as HTMLElement | null)?.blur();
        await live.now();
      })
      .catch((error: unknown) => showProblem(problem, error));
  });
  cars.addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest<HTMLElement>('[data-charge-now]');
    if (!button) return;
    const vehicleId = button.dataset['chargeNow']!;
    const enabled = button.dataset['enabled'] !== 'true';
    apiSend('PUT', `api/vehicles/${encodeURIComponent(vehicleId)}/charge-now`, { enabled })
      .then(() => {
        button.blur();
        return live.now();
      })
      .catch((error: unknown) => showProblem(byId('refresh-status'), error));
  });
}

async function main(): Promise<void> {
  const viewer = await whoAmI();
  if (viewer.role === 'anonymous') {
    byId('viewer').textContent =
      'Not signed in: open the owner link you were given, or connect your car again to sign in.';
    document.body.dataset['loaded'] = 'true';
    return;
  }
  byId('viewer').textContent =
    viewer.role === 'owner' ? `signed in as ${viewer.name}` : 'viewing as the operator (all cars)';
  document.addEventListener('click', (event) => {
    const target = (event.target as HTMLElement | null)?.closest<HTMLElement>('[data-reconnect]');
    const path = target?.dataset['reconnect'];
    if (path) reconnect(path).catch((error: unknown) => showProblem(byId('viewer'), error));
  });
  const live = poll(refresh, 2_000);
  wire(live);
  await live.now();
}

void main();
