import type { VehicleView } from '../service/http/api-routes.ts';
import type { DashboardData } from '../service/http/dashboard-data.ts';
import { apiGet, apiSend, reconnect, whoAmI } from './api-client.ts';
import { byId, h, poll, showProblem } from './dom.ts';
import {
  formatAge,
  formatKw,
  formatLocal,
  formatMoney,
  formatPercent,
  instantToWallTime,
  UNKNOWN,
  wallTimeToInstant,
} from './format.ts';
import { refreshGridTree, wireGridTree } from './grid-tree-view.ts';
import { drawLoadChart } from './load-chart-view.ts';

interface CommandView {
  id: string;
  vehicleId: string;
  action: string;
  value: number | null;
  dueAt: string;
  status: string;
  attempts: number;
  lastError: string | null;
  confirmedAt: string | null;
}
interface GridEvent {
  id: string;
  kind: string;
  startsAt: string;
  endsAt: string;
  limitKw: number;
}
interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * The console holds one page of each list, never the fleet: the server pages, filters and orders (by id
 * for cars, newest first for commands), so a poll costs the same at 10 cars and at 100,000.
 */
const PAGE_SIZE = 25;
const COMMANDS_SHOWN = 40;
const view = {
  data: null as DashboardData | null,
  /** The page of cars shown. */
  vehicles: [] as VehicleView[],
  /** Cursors of the pages before the one shown, the first page's as null; the shown page's is the last. */
  cursors: [] as (string | null)[],
  nextCursor: null as string | null,
  commands: [] as CommandView[],
  events: [] as GridEvent[],
  selected: null as string | null,
};

function vehiclesPath(): string {
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  const cursor = view.cursors.at(-1);
  if (cursor) query.set('cursor', cursor);
  const grant = byId<HTMLSelectElement>('vehicle-grant').value;
  if (grant) query.set('grantStatus', grant);
  const plugged = byId<HTMLSelectElement>('vehicle-plugged').value;
  if (plugged) query.set('pluggedIn', plugged);
  return `api/vehicles?${query.toString()}`;
}

function commandsPath(): string {
  const query = new URLSearchParams({ limit: String(COMMANDS_SHOWN), order: 'newest' });
  const status = byId<HTMLSelectElement>('command-status').value;
  if (status) query.set('status', status);
  const vehicleId = byId<HTMLInputElement>('command-vehicle').value.trim();
  if (vehicleId) query.set('vehicleId', vehicleId);
  return `api/commands?${query.toString()}`;
}

/** The fleet's dashboard with the shown page's cars in full (their costs, targets and plans). */
function dashboardPath(vehicles: readonly VehicleView[]): string {
  return vehicles.length === 0
    ? 'api/dashboard'
    : `api/dashboard?vehicleIds=${vehicles.map((vehicle) => encodeURIComponent(vehicle.id)).join(',')}`;
}

function renderHeader(data: DashboardData): void {
  byId('kpi-cost').textContent = formatMoney(data.fleet.costPlanned, data.currency);
  byId('kpi-arrival').textContent = formatMoney(data.fleet.costOnArrival, data.currency);
  const { savings, opportunisticCost } = data.fleet;
  // Like with like: the same energy on arrival vs as planned; cheap extra energy is named apart.
  byId('kpi-savings').textContent =
    savings === null
      ? UNKNOWN
      : formatMoney(savings, data.currency) +
        (opportunisticCost !== null && opportunisticCost > 0.005
          ? ` (plus ${formatMoney(opportunisticCost, data.currency)} of extra cheap energy)`
          : '');
  byId('kpi-peak').textContent = `${formatKw(data.fleet.peakBeforeKw)} → ${formatKw(data.fleet.peakAfterKw)}`;
  const banner = byId('price-banner');
  banner.textContent = data.prices.problem ?? '';
  banner.hidden = data.prices.problem === null;
  byId('price-source').textContent = data.prices.source;
  byId('price-coverage').textContent =
    `${formatLocal(data.prices.from, data.timeZone)} – ${formatLocal(data.prices.to, data.timeZone)}`;
  byId('price-missing').textContent =
    data.prices.missing.length === 0
      ? 'none'
      : data.prices.missing
          .map((gap) => `${formatLocal(gap.start, data.timeZone)} – ${formatLocal(gap.end, data.timeZone)}`)
          .join('; ');
  byId('price-fetch').textContent = data.prices.fetchError ?? 'ok';
  byId('plan-reason').textContent = data.planReason ?? 'no plan yet';
}

/**
 * The charging state to show: the last reading, unless the car has since confirmed a start or stop (the
 * service re-reads cars only every few minutes), then what the car confirmed, marked as such.
 */
function chargingShown(vehicle: VehicleView): string {
  const readAt = vehicle.state ? Date.parse(vehicle.state.readAt) : -Infinity;
  // Newest first: the first confirmed switch is the latest.
  const latest = view.commands.find(
    (command) =>
      command.vehicleId === vehicle.id &&
      command.status === 'confirmed' &&
      command.action !== 'set_charge_limit' &&
      command.confirmedAt !== null &&
      // A tie goes to the command: the service reads the cars before it sends commands.
      Date.parse(command.confirmedAt) >= readAt,
  );
  if (!latest) return vehicle.state?.charging ?? UNKNOWN;
  return latest.action === 'start_charge' ? 'CHARGING (confirmed start)' : 'NOT_CHARGING (confirmed stop)';
}

function renderVehicles(): void {
  const data = view.data;
  if (!data) return;
  const costs = new Map(data.vehicles.map((vehicle) => [vehicle.id, vehicle]));
  const body = byId('vehicles').querySelector('tbody')!;
  body.replaceChildren(
    ...view.vehicles.map((vehicle) => {
      const planned = costs.get(vehicle.id);
      return h(
        'tr',
        { 'data-vehicle': vehicle.id, 'aria-selected': vehicle.id === view.selected ? 'true' : 'false' },
        h(
          'td',
          {},
          h(
            'button',
            { type: 'button', class: 'link', 'data-detail': vehicle.id },
            `${vehicle.make} ${vehicle.model}`,
          ),
        ),
        h('td', {}, h('span', { class: `badge ${vehicle.grantStatus}` }, vehicle.grantStatus)),
        h('td', { class: 'soc' }, formatPercent(vehicle.state?.soc ?? null)),
        h(
          'td',
          { class: 'plugged' },
          vehicle.state ? (vehicle.state.pluggedIn ? 'plugged in' : 'unplugged') : UNKNOWN,
        ),
        h('td', { class: 'charging' }, chargingShown(vehicle)),
        h('td', { class: 'age' }, formatAge(vehicle.state?.readAt ?? null, data.generatedAt)),
        h('td', {}, formatLocal(vehicle.nextDeparture, data.timeZone)),
        h('td', { class: 'cost' }, formatMoney(planned?.costPlanned ?? null, data.currency)),
        h('td', {}, vehicle.chargeNow ? 'charge now' : 'smart'),
      );
    }),
  );
  const first = (view.cursors.length - 1) * PAGE_SIZE + 1;
  byId('vehicle-count').textContent =
    view.vehicles.length === 0
      ? 'no cars match'
      : `cars ${first}–${first + view.vehicles.length - 1} in id order${view.nextCursor === null ? '' : ', more on the next page'}`;
  byId<HTMLButtonElement>('page-previous').disabled = view.cursors.length <= 1;
  byId<HTMLButtonElement>('page-next').disabled = view.nextCursor === null;
}

function renderDetail(): void {
  const target = byId('car-detail');
  const data = view.data;
  const vehicle = view.vehicles.find((candidate) => candidate.id === view.selected);
  const planned = data?.vehicles.find((candidate) => candidate.id === view.selected);
  if (!data || !vehicle) {
    target.replaceChildren(h('p', { class: 'muted' }, 'Choose a car in the table to see its plan.'));
    return;
  }
  const slots = data.fleet.slots.map((slot, index) => ({
    ...slot,
    baseLoadKw: 0,
    limitKw: null,
    plannedKw: { [vehicle.id]: planned?.plannedKw[index] ?? 0 },
  }));
  const chart = h('div', { class: 'chart', id: 'car-chart' });
  const nowKw = slots[0]?.plannedKw[vehicle.id] ?? 0;
  target.replaceChildren(
    h('h3', {}, `${vehicle.make} ${vehicle.model} (${vehicle.year})`),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'SoC'),
      h('dd', { class: 'detail-soc' }, formatPercent(vehicle.state?.soc ?? null)),
      h('dt', {}, 'Planned now'),
      h('dd', {}, formatKw(nowKw)),
      h('dt', {}, 'Price now'),
      h(
        'dd',
        {},
        data.fleet.slots[0]?.pricePerKwh == null
          ? UNKNOWN
          : `${data.fleet.slots[0].pricePerKwh.toFixed(3)} ${data.currency}/kWh`,
      ),
      h('dt', {}, 'Target'),
      h('dd', {}, formatPercent(planned?.targetSoc ?? null)),
      h('dt', {}, 'Shortfall'),
      h('dd', {}, planned?.shortfall ?? 'none'),
      h('dt', {}, 'Grant'),
      h('dd', {}, vehicle.grantStatusReason ?? vehicle.grantStatus),
    ),
    ...(vehicle.reconnectPath
      ? [
          h(
            'button',
            { type: 'button', class: 'link', 'data-reconnect': vehicle.reconnectPath },
            'Reconnect (a Connect link for this browser)',
          ),
        ]
      : []),
    chart,
  );
  drawLoadChart(chart, data, {
    slots,
    maxSeries: 1,
    height: 260,
    width: 640,
    title: `Plan of ${vehicle.make} ${vehicle.model}`,
  });
}

function renderCommands(): void {
  const data = view.data;
  const zone = data?.timeZone ?? 'UTC';
  const names = new Map(view.vehicles.map((vehicle) => [vehicle.id, `${vehicle.make} ${vehicle.model}`]));
  const rows = view.commands;
  byId('commands')
    .querySelector('tbody')!
    .replaceChildren(
      ...rows.map((command) =>
        h(
          'tr',
          { 'data-command': command.id, 'data-vehicle': command.vehicleId },
          h('td', {}, formatLocal(command.dueAt, zone)),
          h('td', {}, names.get(command.vehicleId) ?? command.vehicleId),
          h('td', {}, command.action + (command.value === null ? '' : ` ${formatPercent(command.value)}`)),
          h('td', { class: 'status' }, h('span', { class: `badge ${command.status}` }, command.status)),
          h('td', {}, command.attempts),
          h('td', { class: 'reason' }, command.lastError ?? ''),
        ),
      ),
    );
  byId('command-count').textContent = rows.length === 0 ? 'no commands match' : `latest ${rows.length}`;
}

function renderEvents(): void {
  const zone = view.data?.timeZone ?? 'UTC';
  byId('events').replaceChildren(
    ...(view.events.length === 0
      ? [h('li', { class: 'muted' }, 'No demand-response events.')]
      : view.events.map((event) =>
          h(
            'li',
            { 'data-event': event.id },
            `${formatLocal(event.startsAt, zone)} – ${formatLocal(event.endsAt, zone)}: limit ${formatKw(event.limitKw)} `,
            h('button', { type: 'button', 'data-cancel-event': event.id }, 'Cancel'),
          ),
        )),
  );
}

async function refresh(): Promise<void> {
  const status = byId('refresh-status');
  try {
    if (view.cursors.length === 0) view.cursors.push(null);
    const vehicles = await apiGet<Page<VehicleView>>(vehiclesPath());
    const [data, commands, events] = await Promise.all([
      apiGet<DashboardData>(dashboardPath(vehicles.items)),
      apiGet<Page<CommandView>>(commandsPath()),
      apiGet<GridEvent[]>('api/grid/events'),
    ]);
    Object.assign(view, {
      data,
      vehicles: vehicles.items,
      nextCursor: vehicles.nextCursor,
      commands: commands.items,
      events,
    });
    renderHeader(data);
    drawLoadChart(byId('load-chart'), data, {
      title: 'Site load: planned charging on base load, limit and price',
    });
    renderVehicles();
    renderCommands();
    renderEvents();
    renderDetail();
    await refreshGridTree(data);
    status.textContent = `updated ${formatLocal(data.generatedAt, data.timeZone)}`;
    status.classList.remove('error');
    // When the first full render finished, for the budget script.
    document.body.dataset['renderedMs'] ??= String(Math.round(performance.now()));
    document.body.dataset['loaded'] = 'true';
    document.body.dataset['generatedAt'] = data.generatedAt;
  } catch (error) {
    showProblem(status, error);
    status.classList.add('error');
  }
}

function showNotice(): void {
  const params = new URLSearchParams(location.search);
  const notice = byId('notice');
  const enrolled = params.get('enrolled');
  const failed = params.get('enrollment_error');
  if (enrolled) notice.textContent = 'Vehicle connected: the plan now includes it.';
  else if (failed) {
    notice.textContent = `Enrollment did not complete (${failed}).`;
    notice.classList.add('failed');
  }
  notice.hidden = !(enrolled || failed);
}

function wire(live: { now: () => Promise<void> }): void {
  byId<HTMLFormElement>('enroll').addEventListener('submit', (event) => {
    event.preventDefault();
    const ownerName = byId<HTMLInputElement>('owner-name').value;
    const make = byId<HTMLInputElement>('make').value.trim().toUpperCase();
    apiSend<{ connectUrl: string }>('POST', 'api/enrollments', { ownerName, ...(make ? { make } : {}) })
      .then(({ connectUrl }) => location.assign(connectUrl))
      .catch((error: unknown) => showProblem(byId('enroll-error'), error));
  });
  byId<HTMLFormElement>('event-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const zone = view.data?.timeZone ?? 'UTC';
    const problem = byId('event-error');
    problem.hidden = true;
    try {
      const body = {
        kind: 'demand_response',
        startsAt: wallTimeToInstant(byId<HTMLInputElement>('event-start').value, zone),
        endsAt: wallTimeToInstant(byId<HTMLInputElement>('event-end').value, zone),
        limitKw: Number(byId<HTMLInputElement>('event-limit').value),
      };
      apiSend('POST', 'api/grid/events', body)
        .then(() => live.now())
        .catch((error: unknown) => showProblem(problem, error));
    } catch (error) {
      showProblem(problem, error);
    }
  });
  byId('events').addEventListener('click', (event) => {
    const id = (event.target as HTMLElement).closest<HTMLElement>('[data-cancel-event]')?.dataset[
      'cancelEvent'
    ];
    if (!id) return;
    apiSend('DELETE', `api/grid/events/${encodeURIComponent(id)}`)
      .then(() => live.now())
      .catch((error: unknown) => showProblem(byId('event-error'), error));
  });
  // A new filter starts again at the first page.
  for (const id of ['vehicle-grant', 'vehicle-plugged'])
    byId(id).addEventListener('change', () => {
      view.cursors = [];
      void live.now();
    });
  byId('vehicles').addEventListener('click', (event) => {
    const target = event.target as HTMLElement;
    const detail = target.closest<HTMLElement>('[data-detail]')?.dataset['detail'];
    if (detail) {
      view.selected = detail;
      renderVehicles();
      renderDetail();
    }
  });
  byId('page-previous').addEventListener('click', () => {
    if (view.cursors.length > 1) view.cursors.pop();
    void live.now();
  });
  byId('page-next').addEventListener('click', () => {
    if (view.nextCursor === null) return;
    view.cursors.push(view.nextCursor);
    void live.now();
  });
  byId('command-status').addEventListener('change', () => void live.now());
  byId('command-vehicle').addEventListener('change', () => void live.now());
}

async function main(): Promise<void> {
  const viewer = await whoAmI();
  if (viewer.role === 'owner') {
    location.replace('owner');
    return;
  }
  if (viewer.role === 'anonymous') {
    const notice = byId('notice');
    notice.textContent =
      'Not signed in: open your operator login link (`voltkit-smart-charging login-link`, or the one the demo prints).';
    notice.hidden = false;
    document.body.dataset['loaded'] = 'true';
    return;
  }
  byId('viewer').textContent = `signed in as ${viewer.name} (${viewer.operatorRole ?? 'read'})`;
  document.addEventListener('click', (event) => {
    const target = (event.target as HTMLElement | null)?.closest<HTMLElement>('[data-reconnect]');
    const path = target?.dataset['reconnect'];
    if (path) reconnect(path).catch((error: unknown) => showProblem(byId('notice'), error));
  });
  showNotice();
  const live = poll(refresh, 2_000);
  wire(live);
  // A click redraws the tree at once, not at the next poll.
  wireGridTree(() =>
    refreshGridTree(view.data).catch((error: unknown) => showProblem(byId('refresh-status'), error)),
  );
  await live.now();
  // Default DR window: the next full hour for two hours, in the site's zone.
  const zone = view.data?.timeZone ?? 'UTC';
  const start = new Date(
    Math.ceil(Date.parse(view.data?.generatedAt ?? new Date().toISOString()) / 3_600_000) * 3_600_000,
  );
  byId<HTMLInputElement>('event-start').value ||= instantToWallTime(start.toISOString(), zone);
  byId<HTMLInputElement>('event-end').value ||= instantToWallTime(
    new Date(start.getTime() + 2 * 3_600_000).toISOString(),
    zone,
  );
  byId('event-zone').textContent = zone;
}

void main();
