/**
 * The dashboard: one self-contained HTML page (no external assets, so it works offline and behind
 * strict proxies). It polls `/api/dashboard` and draws the charts as inline SVG.
 */
export function renderDashboardPage(title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  :root { --ink:#1d2733; --muted:#66768a; --line:#dfe5ec; --price:#d9822b; --limit:#c23030; --base:#a7b6c2; --soc:#0f9960; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--ink); background:#f5f7fa; }
  header { padding:16px 24px; background:#fff; border-bottom:1px solid var(--line); display:flex; gap:24px; align-items:baseline; flex-wrap:wrap; }
  header h1 { font-size:18px; margin:0; }
  .kpi { color:var(--muted); } .kpi b { color:var(--ink); font-size:16px; }
  main { padding:16px 24px; display:grid; gap:16px; }
  section { background:#fff; border:1px solid var(--line); border-radius:8px; padding:12px 16px; }
  h2 { font-size:15px; margin:0 0 8px; }
  table { border-collapse:collapse; width:100%; }
  th, td { text-align:left; padding:6px 8px; border-bottom:1px solid var(--line); }
  th { color:var(--muted); font-weight:600; }
  .badge { padding:1px 8px; border-radius:10px; font-size:12px; background:#e1e8ed; }
  .badge.active { background:#d4f1e4; } .badge.revoked, .badge.expired { background:#fbd9d9; }
  .legend { display:flex; gap:14px; flex-wrap:wrap; color:var(--muted); font-size:12px; margin-top:4px; }
  .legend i { display:inline-block; width:10px; height:10px; margin-right:4px; vertical-align:-1px; }
  svg text { font-size:11px; fill:var(--muted); }
  .empty { color:var(--muted); padding:24px 0; }
  .enroll { display:flex; gap:12px; align-items:center; flex-wrap:wrap; }
  .enroll input { padding:4px 6px; border:1px solid var(--line); border-radius:4px; }
  .error { color:var(--limit); }
  .notice { margin:0; padding:8px 12px; background:#d4f1e4; border-radius:6px; }
  .notice.failed { background:#fbd9d9; }
  .banner { margin:0 0 16px; padding:10px 14px; background:#fde7c7; border-left:4px solid var(--price); border-radius:4px; }
</style>
</head>
<body>
<header>
  <h1>${escapeHtml(title)}</h1>
  <span class="kpi">Planned cost <b id="kpi-cost">–</b></span>
  <span class="kpi">Charging on arrival <b id="kpi-arrival">–</b></span>
  <span class="kpi">Savings <b id="kpi-savings">–</b></span>
  <span class="kpi">Peak <b id="kpi-peak">–</b></span>
</header>
<main>
  <p id="price-banner" class="banner" role="alert" hidden></p>
  <p id="notice" class="notice" hidden></p>
  <section><h2>Enroll a vehicle</h2>
    <form id="enroll" class="enroll">
      <label>Owner <input id="owner-name" name="ownerName" required maxlength="200" placeholder="Ada Lovelace"></label>
      <label>Make (optional) <input id="make" name="make" maxlength="40" placeholder="TESLA"></label>
      <button id="enroll-button" type="submit">Connect a car</button>
      <span id="enroll-error" class="error"></span>
    </form>
  </section>
  <section><h2>Vehicles</h2><table id="vehicles"><thead><tr><th>Vehicle</th><th>Connection</th><th>SoC</th><th>State</th><th>Target</th><th>Departure</th><th>Planned cost</th><th>On arrival</th><th></th></tr></thead><tbody></tbody></table></section>
  <section><h2>Fleet plan</h2><div id="fleet-chart" class="chart"></div>
    <div class="legend"><span><i style="background:var(--base)"></i>base load</span><span><i style="background:var(--limit)"></i>grid limit</span><span><i style="background:var(--price)"></i>price</span><span id="vehicle-legend"></span></div></section>
  <div id="vehicle-charts"></div>
</main>
<script>
// Times are shown in the site's time zone (from the data), whatever the browser's.
const ZONE = { id: undefined };
const COLORS = ['#2b95d6','#7157d9','#29a634','#d13913','#00b3a4','#db2c6f','#9bbf30','#96622d'];
const fmtMoney = (value, currency) => value == null ? 'unknown' : new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(value);
const pct = (v) => v == null ? '–' : Math.round(v * 100) + ' %';
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;' })[c]);

function chart(slots, series, { height = 220, yMax, y2 } = {}) {
  const width = 960, left = 44, right = y2 ? 48 : 12, top = 10, bottom = 24;
  const plotW = width - left - right, plotH = height - top - bottom;
  const n = Math.max(slots.length, 1), slotW = plotW / n;
  const y = (v) => top + plotH - (v / (yMax || 1)) * plotH;
  let svg = '<svg viewBox="0 0 ' + width + ' ' + height + '" width="100%" role="img">';
  for (let k = 0; k <= 4; k++) {
    const v = (yMax / 4) * k, yy = y(v);
    svg += '<line x1="' + left + '" x2="' + (width - right) + '" y1="' + yy + '" y2="' + yy + '" stroke="#eef1f4"/>';
    svg += '<text x="' + (left - 6) + '" y="' + (yy + 4) + '" text-anchor="end">' + (Math.round(v * 100) / 100) + '</text>';
  }
  const step = Math.max(1, Math.ceil(n / 12));
  slots.forEach((s, i) => { if (i % step === 0) svg += '<text x="' + (left + i * slotW) + '" y="' + (height - 6) + '">' + new Date(s.start).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false, timeZone: ZONE.id }) + '</text>'; });
  for (const item of series) svg += item(slots, { left, top, plotW, plotH, slotW, y, width, right });
  return svg + '</svg>';
}

const stacked = (ids) => (slots, g) => slots.map((s, i) => {
  let base = s.baseLoadKw, out = '<rect class="base-load" x="' + (g.left + i * g.slotW) + '" y="' + g.y(base) + '" width="' + g.slotW + '" height="' + (g.y(0) - g.y(base)) + '" fill="var(--base)"/>';
  ids.forEach((id, k) => { const kw = s.plannedKw[id] || 0; if (kw <= 0) return;
    out += '<rect class="planned" data-vehicle="' + esc(id) + '" x="' + (g.left + i * g.slotW) + '" y="' + g.y(base + kw) + '" width="' + Math.max(g.slotW - 0.5, 0.5) + '" height="' + (g.y(base) - g.y(base + kw)) + '" fill="' + COLORS[k % COLORS.length] + '"/>';
    base += kw; });
  return out; }).join('');
const stepLine = (key, color, cls, scale, dash) => (slots, g) => {
  let d = ''; slots.forEach((s, i) => { const v = s[key]; if (v == null) return; const yy = g.y(scale(v)); d += (d ? 'L' : 'M') + (g.left + i * g.slotW) + ' ' + yy + 'H' + (g.left + (i + 1) * g.slotW); });
  return d ? '<path class="' + cls + '" d="' + d + '" fill="none" stroke="' + color + '" stroke-width="2"' + (dash ? ' stroke-dasharray="5 4"' : '') + '/>' : ''; };

async function refresh() {
  const response = await fetch('api/dashboard');
  if (response.status === 401) {
    notice.innerHTML = 'Not signed in. Car owners: connect your car below. Operators: <a href="login">sign in</a>.';
    notice.hidden = false;
    return;
  }
  if (!response.ok) return;
  const data = await response.json();
  ZONE.id = data.timeZone;
  const f = data.fleet, cur = data.currency;
  document.getElementById('kpi-cost').textContent = fmtMoney(f.costPlanned, cur);
  document.getElementById('kpi-arrival').textContent = fmtMoney(f.costOnArrival, cur);
  document.getElementById('kpi-savings').textContent = f.costOnArrival == null || f.costPlanned == null ? 'unknown' : fmtMoney(f.costOnArrival - f.costPlanned, cur);
  const banner = document.getElementById('price-banner');
  banner.hidden = !data.prices.problem;
  banner.textContent = data.prices.problem ? data.prices.problem + '. Costs that depend on missing prices show as unknown.' : '';
  document.getElementById('kpi-peak').textContent = f.peakAfterKw.toFixed(1) + ' kW (uncontrolled ' + f.peakBeforeKw.toFixed(1) + ' kW)';
  const tbody = document.querySelector('#vehicles tbody');
  tbody.innerHTML = data.vehicles.length === 0 ? '<tr><td colspan="9" class="empty">No vehicles yet: enroll one through Connect.</td></tr>' :
    data.vehicles.map((v) => '<tr data-vehicle="' + esc(v.id) + '"><td>' + esc(v.name) + '</td><td><span class="badge ' + v.grantStatus + '">' + v.grantStatus + '</span>' +
      (v.reconnectPath ? ' <button class="reconnect" data-path="' + esc(v.reconnectPath) + '">reconnect</button>' : '') + '</td><td class="soc">' + pct(v.soc) + '</td><td>' + esc(v.chargingState || '–') +
      (v.pluggedIn === false ? ' (unplugged)' : '') + '</td><td>' + pct(v.targetSoc) + '</td><td>' + (v.departure ? new Date(v.departure).toLocaleString([], { weekday: 'short', hour: '2-digit', minute: '2-digit', hour12: false, timeZone: ZONE.id }) : '–') + '</td><td>' +
      fmtMoney(v.costPlanned, cur) + '</td><td>' + fmtMoney(v.costOnArrival, cur) + '</td><td>' + (v.shortfall ? esc(v.shortfall) : '') + '</td></tr>').join('');
  const ids = data.vehicles.map((v) => v.id);
  const maxLoad = Math.max(1, ...f.slots.map((s) => Math.max(s.limitKw || 0, s.baseLoadKw + Object.values(s.plannedKw).reduce((a, b) => a + b, 0))));
  const prices = f.slots.map((s) => s.pricePerKwh).filter((p) => p != null);
  const pMin = Math.min(0, ...prices), pMax = Math.max(0.01, ...prices);
  const priceScale = (p) => ((p - pMin) / (pMax - pMin)) * maxLoad * 1.1;
  document.getElementById('fleet-chart').innerHTML = f.slots.length === 0 ? '<p class="empty">No plan yet.</p>' :
    chart(f.slots, [stacked(ids), stepLine('limitKw', 'var(--limit)', 'grid-limit', (v) => v, true), stepLine('pricePerKwh', 'var(--price)', 'price', priceScale)], { yMax: maxLoad * 1.1, y2: true });
  document.getElementById('vehicle-legend').innerHTML = data.vehicles.map((v, k) => '<span><i style="background:' + COLORS[k % COLORS.length] + '"></i>' + esc(v.name) + '</span>').join(' ');
  document.getElementById('vehicle-charts').innerHTML = data.vehicles.map((v, k) => {
    const slots = f.slots.map((s, i) => ({ ...s, soc: v.socTrajectory[i] ?? null, own: s.plannedKw[v.id] || 0 }));
    const maxKw = Math.max(1, ...slots.map((s) => s.own));
    const bars = (ss, g) => ss.map((s, i) => s.own > 0 ? '<rect class="planned" x="' + (g.left + i * g.slotW) + '" y="' + g.y(s.own / maxKw) + '" width="' + Math.max(g.slotW - 0.5, 0.5) + '" height="' + (g.y(0) - g.y(s.own / maxKw)) + '" fill="' + COLORS[k % COLORS.length] + '" opacity="0.55"/>' : '').join('');
    return '<section class="vehicle-chart" data-vehicle="' + esc(v.id) + '"><h2>' + esc(v.name) + ': planned power and state of charge</h2>' +
      chart(slots, [bars, stepLine('soc', 'var(--soc)', 'soc', (x) => x), stepLine('pricePerKwh', 'var(--price)', 'price', (p) => (p - pMin) / (pMax - pMin))], { yMax: 1, height: 160 }) +
      '<div class="legend"><span><i style="background:' + COLORS[k % COLORS.length] + '"></i>planned power (scaled)</span><span><i style="background:var(--soc)"></i>state of charge (0–1)</span><span><i style="background:var(--price)"></i>price (scaled)</span></div></section>';
  }).join('');
  document.body.dataset.loaded = 'true';
}
const params = new URLSearchParams(location.search);
const notice = document.getElementById('notice');
if (params.has('enrolled')) { notice.textContent = 'Vehicle connected. It is planned with the fleet from now on.'; notice.hidden = false; }
if (params.has('enrollment_error')) { notice.textContent = 'Connect did not finish: ' + params.get('enrollment_error'); notice.className = 'notice failed'; notice.hidden = false; }
document.getElementById('enroll').addEventListener('submit', async (event) => {
  event.preventDefault();
  const make = document.getElementById('make').value.trim().toUpperCase().replace(/[^A-Z0-9]/g, '');
  const body = { ownerName: document.getElementById('owner-name').value };
  if (make) body.make = make;
  const response = await fetch('api/enrollments', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const answer = await response.json();
  if (response.ok) location.href = answer.connectUrl;
  else document.getElementById('enroll-error').textContent = answer.error.message;
});
// Reconnect: a Connect link bound to this browser, for the signed-in owner (or an admin).
document.getElementById('vehicles').addEventListener('click', async (event) => {
  const button = event.target.closest('button.reconnect');
  if (!button) return;
  const response = await fetch(button.dataset.path, { method: 'POST' });
  const answer = await response.json();
  if (response.ok) location.href = answer.connectUrl;
  else { notice.textContent = answer.error.message; notice.className = 'notice failed'; notice.hidden = false; }
});
refresh();
setInterval(refresh, 10000);
</script>
</body>
</html>`;
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}
