import { BRANDS } from '../catalog/brands.ts';
import type { SimulatorEngine } from '../engine.ts';
import type { AppRecord, GrantRecord, VehicleRecord } from '../state/records.ts';
import type { V3Platform } from '../v3/index.ts';
import type { DeliveryAttemptRecord } from '../webhooks/delivery-attempt.ts';
import type { DemoReceiver } from './demo-receiver.ts';
import { html, type Html } from './html.ts';
import { form, page, shortId, time } from './layout.ts';
import type { RequestLog } from './request-log.ts';
import type { Ring } from './ring.ts';
import type { DashboardSession } from './session.ts';

export interface DashboardDeps {
  readonly engine: SimulatorEngine;
  readonly v3: V3Platform | undefined;
  readonly requestLog: RequestLog;
  readonly deliveries: Ring<DeliveryAttemptRecord>;
  readonly receiver: DemoReceiver;
  /** The simulator's own origin (webhook URLs of the demo receiver, Connect links). */
  readonly origin: () => string;
}

/** Error triggers a car can be given (Smartcar's test-mode errors), besides sleep and reachability. */
export const ERROR_TRIGGERS = [
  'CONNECTED_SERVICES_ACCOUNT:SUBSCRIPTION',
  'CONNECTED_SERVICES_ACCOUNT:ACCOUNT_ISSUE',
  'CONNECTED_SERVICES_ACCOUNT:VEHICLE_MISSING',
  'VEHICLE_STATE:REMOTE_ACCESS_DISABLED',
  'RATE_LIMIT:VEHICLE',
  'UPSTREAM:NO_RESPONSE',
  'UPSTREAM:UNKNOWN_ISSUE',
  'SERVER:INTERNAL',
  'COMPATIBILITY:SMARTCAR_NOT_CAPABLE',
] as const;

/** Signals a demo v3 webhook triggers on. */
export const DEMO_TRIGGERS = [
  'tractionbattery-stateofcharge',
  'charge-ischarging',
  'charge-ischargingcableconnected',
  'location-preciselocation',
] as const;

const MASK = '••••••••••••';

export function loginPage(error: string | null): string {
  return page({
    title: 'Sign in',
    current: null,
    session: null,
    body: html`${error === null ? '' : html`<p class="flash error" role="alert" id="flash">${error}</p>`}
      <section>
        <p>
          The dashboard belongs to whoever holds the simulator's management token: the command prints it at
          start (or it is <code>SIMULATOR_MANAGEMENT_TOKEN</code>); in-process it is
          <code>sim.managementToken</code>.
        </p>
        <form method="post" action="/_simulator/dashboard/login" class="stack">
          <input type="text" name="username" value="simulator" autocomplete="username" hidden />
          <label for="token"
            >Management token<input
              id="token"
              name="token"
              type="password"
              autocomplete="current-password"
              required
          /></label>
          <div><button type="submit" id="sign-in">Sign in</button></div>
        </form>
      </section>`,
  });
}

function appName(engine: SimulatorEngine, clientId: string | null): string {
  if (clientId === null) return '—';
  return engine.store.apps.get(clientId)?.name ?? clientId;
}

function grantsOf(engine: SimulatorEngine, clientId: string): GrantRecord[] {
  return [...engine.store.grants.values()].filter((grant) => grant.clientId === clientId);
}

function vehicleLabel(vehicle: VehicleRecord | undefined): string {
  return vehicle === undefined ? 'unknown vehicle' : `${vehicle.make} ${vehicle.model} ${vehicle.year}`;
}

export function appsPage(deps: DashboardDeps, session: DashboardSession): string {
  const { engine } = deps;
  const revealed = session.reveal;
  session.reveal = null;
  const apps = [...engine.store.apps.values()].sort((a, b) => a.createdAt - b.createdAt);
  return page({
    title: 'Apps',
    current: '',
    session,
    body: html`<section aria-labelledby="new-app-heading">
        <h3 id="new-app-heading">Register an app</h3>
        ${form(
          session,
          '/apps',
          html`<label for="app-name">Name<input id="app-name" name="name" required maxlength="200" /></label>
            <label for="app-redirects"
              >Redirect URIs (one per line)<textarea id="app-redirects" name="redirectUris" rows="3">
http://localhost/callback</textarea>
            </label>
            <div><button type="submit" id="create-app">Register app</button></div>`,
          { className: 'stack' },
        )}
      </section>
      ${apps.map((app) => appArticle(deps, session, app, revealed === app.clientId))}`,
  });
}

function appArticle(deps: DashboardDeps, session: DashboardSession, app: AppRecord, reveal: boolean): Html {
  const { engine } = deps;
  const origin = deps.origin();
  const connectUrl = new URL('/oauth/authorize', origin);
  connectUrl.search = new URLSearchParams({
    response_type: 'code',
    client_id: app.clientId,
    redirect_uri: app.redirectUris[0] ?? '',
    scope: 'read_vehicle_info read_battery read_charge read_location control_charge',
    mode: 'simulated',
  }).toString();
  const v2 = [...engine.store.webhooks.values()].filter((w) => w.clientId === app.clientId);
  const v3 = deps.v3?.webhooks.list(app.clientId) ?? [];
  const connected = grantsOf(engine, app.clientId).flatMap((grant) =>
    grant.vehicles.map((v) => engine.store.vehicles.get(v.vehicleId)).filter((v) => v !== undefined),
  );
  const receiverUrl = deps.receiver.url(origin, app.clientId);
  const key = app.clientId;
  const subscribeForm = (webhookId: string, version: 'v2' | 'v3', verified: boolean) =>
    !verified || connected.length === 0
      ? ''
      : form(
          session,
          `/webhooks/${encodeURIComponent(webhookId)}/subscribe`,
          html`<input type="hidden" name="version" value="${version}" /><input
              type="hidden"
              name="clientId"
              value="${key}"
            />
            <label
              >Vehicle<select name="vehicleId">
                ${connected.map((v) => html`<option value="${v.id}">${vehicleLabel(v)} · ${v.vin}</option>`)}
              </select></label
            >
            <button type="submit" class="secondary">Subscribe</button>`,
          { label: `Subscribe a vehicle to webhook ${webhookId}` },
        );
  return html`<article data-client-id="${app.clientId}" aria-label="App ${app.name}">
    <h3>${app.name}</h3>
    <dl class="credentials">
      <dt>Client id</dt>
      <dd><code class="client-id">${app.clientId}</code></dd>
      <dt>Client secret</dt>
      <dd><code class="client-secret">${reveal ? app.clientSecret : MASK}</code></dd>
      <dt>Application management token</dt>
      <dd><code class="amt">${reveal ? app.managementToken : MASK}</code></dd>
    </dl>
    ${
      reveal
        ? html`<p class="muted">Shown once: reload the page to hide them again.</p>`
        : form(
            session,
            `/apps/${encodeURIComponent(key)}/reveal`,
            html`<button type="submit" class="secondary reveal">Reveal secrets of ${app.name}</button>`,
          )
    }
    <h4>Redirect URIs</h4>
    <ul class="redirect-uris">
      ${app.redirectUris.map((uri) => html`<li><code>${uri}</code></li>`)}
    </ul>
    ${form(
      session,
      `/apps/${encodeURIComponent(key)}/redirect-uris`,
      html`<label
          >New redirect URI<input
            name="uri"
            required
            maxlength="2000"
            placeholder="http://localhost:3000/callback"
        /></label>
        <button type="submit" class="secondary">Add redirect URI</button>`,
      { label: `Add a redirect URI to ${app.name}` },
    )}
    <p>
      <a href="${connectUrl.toString()}">Open Connect for ${app.name}</a>
      <span class="muted">(first redirect URI, simulated mode)</span>
    </p>
    <h4>Webhooks</h4>
    ${
      v2.length + v3.length === 0
        ? html`<p class="muted">No webhooks yet.</p>`
        : html`<table class="webhooks">
            <caption class="muted">
              Webhooks of ${app.name}
            </caption>
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Kind</th>
                <th scope="col">URL</th>
                <th scope="col">Verified</th>
                <th scope="col">Vehicles</th>
                <th scope="col">Subscribe</th>
              </tr>
            </thead>
            <tbody>
              ${v3.map(
                (w) =>
                  html`<tr data-webhook-id="${w.id}">
                    <td>${shortId(w.id)}</td>
                    <td>v3 · ${w.triggers.length} triggers</td>
                    <td><code>${w.url}</code></td>
                    <td class="${w.verified ? 'status-ok' : 'status-bad'} verified">
                      ${w.verified ? 'yes' : 'no'}
                    </td>
                    <td class="vehicle-count">${w.vehicleIds.length}</td>
                    <td>${subscribeForm(w.id, 'v3', w.verified)}</td>
                  </tr>`,
              )}
              ${v2.map(
                (w) =>
                  html`<tr data-webhook-id="${w.id}">
                    <td>${shortId(w.id)}</td>
                    <td>v2 · ${w.type}</td>
                    <td><code>${w.url}</code></td>
                    <td class="${w.verified ? 'status-ok' : 'status-bad'} verified">
                      ${w.verified ? 'yes' : 'no'}
                    </td>
                    <td class="vehicle-count">${w.vehicleIds.length}</td>
                    <td>${subscribeForm(w.id, 'v2', w.verified)}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }
    ${form(
      session,
      `/apps/${encodeURIComponent(key)}/webhooks`,
      html`<label
          >Kind<select name="kind">
            <option value="v3">v3 (signals: SoC, charging, plug, location)</option>
            <option value="eventBased">v2 event-based (charging events)</option>
            <option value="scheduled">v2 scheduled (hourly battery, charge, odometer)</option>
          </select></label
        >
        <label>URL<input name="url" type="url" required value="${receiverUrl}" size="50" /></label>
        <label class="check"
          ><input type="checkbox" name="subscribe" value="on" checked /> Subscribe the app's connected
          vehicles</label
        >
        <button type="submit" class="create-webhook">Create webhook</button>`,
      { label: `Create a webhook for ${app.name}` },
    )}
    <h4>Demo receiver</h4>
    <p>
      The simulator answers webhooks for this app at <code class="receiver-url">${receiverUrl}</code>: it
      checks the signature with the app's AMT, answers the challenge and records each delivery (see Webhook
      deliveries).
      ${deps.receiver.pendingFailures(app.clientId) > 0 ? html`<strong class="pending-failures">It will fail the next ${deps.receiver.pendingFailures(app.clientId)} deliveries.</strong>` : ''}
    </p>
    ${form(
      session,
      `/apps/${encodeURIComponent(key)}/demo-receiver`,
      html`<label
          >Deliveries to fail (HTTP 500)<input name="failNext" type="number" min="0" max="20" value="2"
        /></label>
        <button type="submit" class="secondary fail-next">Fail the next deliveries</button>`,
      { label: `Make the demo receiver of ${app.name} fail` },
    )}
  </article>`;
}

export function accountsPage(deps: DashboardDeps, session: DashboardSession): string {
  const { engine } = deps;
  const accounts = [...engine.store.accounts.values()].sort((a, b) => a.createdAt - b.createdAt);
  const models = BRANDS.flatMap((brand) =>
    brand.models.map((model) => ({
      value: `${brand.make}|${model.model}`,
      label: `${brand.make} ${model.model} (${model.powertrain})`,
    })),
  );
  return page({
    title: 'Test accounts',
    current: '/accounts',
    session,
    body: html`<section aria-labelledby="new-account-heading">
        <h3 id="new-account-heading">Create a test account</h3>
        ${form(
          session,
          '/accounts',
          html`<label for="account-email"
              >Email<input id="account-email" name="email" type="email" required
            /></label>
            <label for="account-model"
              >Car<select id="account-model" name="model">
                ${models.map((m) => html`<option value="${m.value}">${m.label}</option>`)}
              </select></label
            >
            <label for="account-count"
              >Cars<input id="account-count" name="vehicleCount" type="number" min="1" max="20" value="1"
            /></label>
            <div><button type="submit" id="create-account">Create account</button></div>`,
          { className: 'stack' },
        )}
      </section>
      ${accounts.length === 0 ? html`<p class="muted">No test accounts yet: create one, or sign in through Connect.</p>` : ''}
      ${accounts.map((account) => {
        const vehicles = engine.store.vehiclesOfAccount(account.id);
        return html`<article data-account="${account.email}" aria-label="Account ${account.email}">
          <h3>${account.email}</h3>
          <p class="muted">
            User id <code>${account.id}</code>${account.password === null ? ' · any password signs in' : ''}
          </p>
          ${vehicles.map((vehicle) => carSection(engine, session, vehicle))}
        </article>`;
      })}`,
  });
}

function carSection(engine: SimulatorEngine, session: DashboardSession, vehicle: VehicleRecord): Html {
  engine.syncVehicle(vehicle);
  const s = vehicle.state;
  const id = vehicle.id;
  const action = `/vehicles/${id}`;
  const button = (name: string, label: string, className = 'secondary') =>
    form(
      session,
      action,
      html`<input type="hidden" name="action" value="${name}" /><button type="submit" class="${className}">
          ${label}
        </button>`,
      {
        label: `${label}: ${vehicleLabel(vehicle)}`,
      },
    );
  const error =
    vehicle.forcedError === null
      ? 'none'
      : `${vehicle.forcedError.type}${vehicle.forcedError.code === null ? '' : `:${vehicle.forcedError.code}`}`;
  return html`<div class="car" data-vehicle-id="${id}">
    <h4>
      ${vehicleLabel(vehicle)}
      <span class="muted">VIN <code>${vehicle.vin}</code> · id <code>${id}</code></span>
    </h4>
    <dl class="credentials">
      ${
        s.soc === null
          ? ''
          : html`<dt>State of charge</dt>
              <dd class="soc">${Math.round(s.soc * 1000) / 10} %</dd>`
      }
      ${
        s.soc === null
          ? ''
          : html`<dt>Charging</dt>
              <dd class="plug">
                ${s.pluggedIn ? 'plugged in' : 'unplugged'} · ${s.chargeState} · ${s.stationKw} kW station
              </dd>`
      }
      <dt>Location</dt>
      <dd class="location">${s.latitude.toFixed(5)}, ${s.longitude.toFixed(5)}</dd>
      <dt>Sleep</dt>
      <dd class="sleep">${s.asleep ? 'asleep' : 'awake'}${s.unreachable ? ' · unreachable' : ''}</dd>
      <dt>Error trigger</dt>
      <dd class="error-trigger">${error}</dd>
    </dl>
    ${
      s.soc === null
        ? ''
        : html`${form(
            session,
            action,
            html`<input type="hidden" name="action" value="soc" /><label for="soc-${id}"
                >State of charge (%)<input
                  id="soc-${id}"
                  name="soc"
                  type="number"
                  min="0"
                  max="100"
                  step="0.1"
                  value="${Math.round(s.soc * 1000) / 10}" /></label
              ><button type="submit">Set SoC</button>`,
            { label: `Set the state of charge of ${vehicleLabel(vehicle)}` },
          )}${s.pluggedIn ? button('unplug', 'Unplug') : button('plug', 'Plug in')}`
    }
    ${s.asleep ? button('wake', 'Wake up') : button('sleep', 'Put to sleep')}
    ${s.unreachable ? button('reachable', 'Make reachable') : button('unreachable', 'Make unreachable')}
    ${form(
      session,
      action,
      html`<input type="hidden" name="action" value="location" /><label for="lat-${id}"
          >Latitude<input
            id="lat-${id}"
            name="latitude"
            type="number"
            min="-90"
            max="90"
            step="any"
            value="${s.latitude}" /></label
        ><label for="lon-${id}"
          >Longitude<input
            id="lon-${id}"
            name="longitude"
            type="number"
            min="-180"
            max="180"
            step="any"
            value="${s.longitude}" /></label
        ><button type="submit" class="secondary">Move car</button>`,
      { label: `Move ${vehicleLabel(vehicle)}` },
    )}
    ${form(
      session,
      action,
      html`<input type="hidden" name="action" value="error" /><label for="error-${id}"
          >Error trigger<select id="error-${id}" name="error">
            <option value="">none</option>
            ${ERROR_TRIGGERS.map(
              (trigger) =>
                html`<option value="${trigger}" ${trigger === error ? ' selected' : ''}>${trigger}</option>`,
            )}
          </select></label
        ><button type="submit" class="secondary">Set error trigger</button>`,
      { label: `Set an error trigger on ${vehicleLabel(vehicle)}` },
    )}
  </div>`;
}

export function connectionsPage(deps: DashboardDeps, session: DashboardSession): string {
  const { engine } = deps;
  const grants = [...engine.store.grants.values()];
  return page({
    title: 'Connections',
    current: '/connections',
    session,
    body: html`${grants.length === 0 ? html`<p class="muted">No connections yet: a user connects a car to an app through Connect.</p>` : ''}
    ${grants.map((grant) => {
      const user = engine.store.accounts.get(grant.userId);
      const app = engine.store.apps.get(grant.clientId);
      return html`<article
        data-grant-id="${grant.id}"
        aria-label="Connection of ${user?.email ?? grant.userId} to ${app?.name ?? grant.clientId}"
      >
        <h3>${app?.name ?? grant.clientId} ← ${user?.email ?? grant.userId}</h3>
        <p class="muted">
          User id <code>${grant.userId}</code> · ${grant.mode} mode · scopes
          <code>${grant.scopes.join(' ')}</code>
        </p>
        <table>
          <caption class="muted">
            Vehicles of this connection
          </caption>
          <thead>
            <tr>
              <th scope="col">Vehicle</th>
              <th scope="col">Id</th>
              <th scope="col">Connected</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            ${grant.vehicles.map((v) => {
              const vehicle = engine.store.vehicles.get(v.vehicleId);
              return html`<tr>
                <td>${vehicleLabel(vehicle)}</td>
                <td><code>${v.vehicleId}</code></td>
                <td>${time(v.connectedAt)}</td>
                <td>
                  ${form(
                    session,
                    '/connections/disconnect',
                    html`<input type="hidden" name="grantId" value="${grant.id}" /><input
                        type="hidden"
                        name="vehicleId"
                        value="${v.vehicleId}"
                      /><button type="submit" class="secondary">Disconnect vehicle</button>`,
                    {
                      confirm: `Disconnect ${vehicleLabel(vehicle)} from ${app?.name ?? grant.clientId}?`,
                      label: `Disconnect ${vehicleLabel(vehicle)}`,
                    },
                  )}
                </td>
              </tr>`;
            })}
          </tbody>
        </table>
        ${form(
          session,
          '/connections/revoke',
          html`<input type="hidden" name="grantId" value="${grant.id}" /><button
              type="submit"
              class="danger revoke"
            >
              Revoke access
            </button>`,
          {
            confirm: `Revoke ${app?.name ?? grant.clientId}'s access to every car of ${user?.email ?? grant.userId}? Its tokens stop working.`,
            label: `Revoke the connection of ${user?.email ?? grant.userId}`,
          },
        )}
      </article>`;
    })}`,
  });
}

export function requestsPage(deps: DashboardDeps, session: DashboardSession): string {
  const { engine, requestLog } = deps;
  const entries = requestLog.entries();
  return page({
    title: 'Request log',
    current: '/requests',
    session,
    body: html`<div id="live">
      <p class="muted">
        The last ${requestLog.capacity} requests (${requestLog.size} kept), newest first; the dashboard's own
        requests are not listed.
      </p>
      <table id="requests">
        <caption class="muted">
          Requests to the simulator
        </caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Method</th>
            <th scope="col">Path</th>
            <th scope="col">Status</th>
            <th scope="col">Scope</th>
            <th scope="col">Latency</th>
            <th scope="col">App</th>
          </tr>
        </thead>
        <tbody>
          ${entries.map(
            (e) =>
              html`<tr>
                <td>${time(e.at)}</td>
                <td class="method">${e.method}</td>
                <td class="path"><code>${e.path}</code></td>
                <td class="status ${e.status < 400 ? 'status-ok' : 'status-bad'}">${e.status}</td>
                <td class="scope">${e.scope ?? '—'}</td>
                <td class="latency">${Number.isNaN(e.latencyMs) ? '—' : `${e.latencyMs.toFixed(2)} ms`}</td>
                <td class="app">
                  ${e.caller === 'simulator' ? 'simulator management' : appName(engine, e.clientId)}
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>`,
  });
}

export function deliveriesPage(deps: DashboardDeps, session: DashboardSession): string {
  const { engine } = deps;
  const attempts = deps.deliveries.newestFirst();
  const receipts = deps.receiver.receipts.newestFirst();
  return page({
    title: 'Webhook deliveries',
    current: '/deliveries',
    session,
    body: html`<div id="live">
      <section aria-labelledby="attempts-heading">
        <h3 id="attempts-heading">Delivery attempts</h3>
        <p class="muted">
          Every attempt, newest first. A v3 event that does not get a 2xx is retried up to 3 times (same event
          id).
        </p>
        <table id="deliveries">
          <caption class="muted">
            Webhook delivery attempts
          </caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">App</th>
              <th scope="col">Webhook</th>
              <th scope="col">Event</th>
              <th scope="col">Detail</th>
              <th scope="col">Event id</th>
              <th scope="col">Attempt</th>
              <th scope="col">Status</th>
              <th scope="col">Result</th>
              <th scope="col">Duration</th>
            </tr>
          </thead>
          <tbody>
            ${attempts.map(
              (a) =>
                html`<tr data-event-id="${a.eventId ?? ''}">
                  <td>${time(a.at)}</td>
                  <td>${appName(engine, a.clientId)}</td>
                  <td>${a.version} ${shortId(a.webhookId)}</td>
                  <td class="event">${a.eventType}</td>
                  <td>${a.detail ?? '—'}</td>
                  <td>${shortId(a.eventId)}</td>
                  <td class="attempt">${a.attempt} of ${a.maxAttempts}</td>
                  <td class="status">${a.status ?? 'no answer'}</td>
                  <td class="result ${a.ok ? 'status-ok' : 'status-bad'}">
                    ${a.ok ? 'delivered' : a.willRetry ? 'failed, will retry' : 'failed'}
                  </td>
                  <td>${a.durationMs.toFixed(1)} ms</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="receipts-heading">
        <h3 id="receipts-heading">Received by the demo receiver</h3>
        <table id="receipts">
          <caption class="muted">
            Deliveries the simulator's demo receiver got
          </caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">App</th>
              <th scope="col">Event</th>
              <th scope="col">Event id</th>
              <th scope="col">Signature</th>
              <th scope="col">Answered</th>
            </tr>
          </thead>
          <tbody>
            ${receipts.map(
              (r) =>
                html`<tr>
                  <td>${time(r.at)}</td>
                  <td>${appName(engine, r.clientId)}</td>
                  <td class="event">${r.eventType}</td>
                  <td>${shortId(r.eventId)}</td>
                  <td class="${r.signatureValid ? 'status-ok' : 'status-bad'}">
                    ${r.signatureValid ? 'valid' : 'invalid'}
                  </td>
                  <td class="answered">${r.answeredStatus}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </section>
    </div>`,
  });
}
