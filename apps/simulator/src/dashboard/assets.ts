/**
 * The dashboard's only stylesheet and script, served from its own origin (CSP `script-src 'self'`,
 * `style-src 'self'`). The pages work without the script; it adds live updates of the logs (with a
 * pause button) and a confirmation before destructive actions.
 */
export const DASHBOARD_STYLE = `
:root { color-scheme: light; --ink: #1b1f24; --muted: #4a5561; --line: #d0d7de; --accent: #0b5cad; --bad: #a40e26; --ok: #116329; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: var(--ink); background: #f6f8fa; }
header { display: flex; align-items: center; gap: 1.5rem; padding: .6rem 1.2rem; background: #fff; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
header h1 { font-size: 1.1rem; margin: 0; }
nav ul { display: flex; gap: 1rem; list-style: none; margin: 0; padding: 0; flex-wrap: wrap; }
nav a { color: var(--accent); }
nav a[aria-current="page"] { font-weight: 700; color: var(--ink); }
main { padding: 1rem 1.2rem 3rem; max-width: 1400px; }
section, article { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .8rem 1rem; margin: 0 0 1rem; }
h2 { font-size: 1.2rem; margin: .2rem 0 .8rem; }
h3 { font-size: 1.05rem; margin: .2rem 0 .6rem; }
h4 { font-size: .95rem; margin: .8rem 0 .4rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #eef1f4; }
code, .mono { font-family: ui-monospace, monospace; font-size: .85rem; overflow-wrap: anywhere; }
form.inline { display: inline-flex; gap: .4rem; align-items: end; flex-wrap: wrap; margin: .2rem .6rem .2rem 0; }
form.stack { display: grid; gap: .5rem; max-width: 40rem; }
label { display: inline-flex; flex-direction: column; font-size: .85rem; color: var(--muted); gap: .15rem; }
label.check { flex-direction: row; align-items: center; gap: .3rem; }
input, select, textarea, button { font: inherit; color: var(--ink); }
input, select, textarea { padding: .25rem .4rem; border: 1px solid #8c959f; border-radius: 4px; background: #fff; }
input[type="number"] { width: 6.5rem; }
button { padding: .3rem .7rem; border: 1px solid var(--accent); border-radius: 4px; background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
.flash { padding: .5rem .8rem; border-radius: 4px; margin: 0 0 1rem; border: 1px solid; }
.flash.ok { background: #dafbe1; border-color: var(--ok); }
.flash.error { background: #ffebe9; border-color: var(--bad); }
.status-ok { color: var(--ok); font-weight: 600; }
.status-bad { color: var(--bad); font-weight: 600; }
.muted { color: var(--muted); }
dl.credentials { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0 0 .6rem; }
dl.credentials dt { color: var(--muted); }
dl.credentials dd { margin: 0; }
.car { border-top: 1px solid var(--line); padding-top: .6rem; margin-top: .6rem; }
.live-controls { margin: 0 0 .6rem; }
`;

export const DASHBOARD_SCRIPT = `'use strict';
(() => {
  for (const form of document.querySelectorAll('form[data-confirm]')) {
    form.addEventListener('submit', (event) => {
      if (!window.confirm(form.getAttribute('data-confirm'))) event.preventDefault();
    });
  }
  const live = document.getElementById('live');
  if (live === null) return;
  let paused = false;
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'secondary';
  button.id = 'live-toggle';
  button.textContent = 'Pause live updates';
  button.setAttribute('aria-pressed', 'false');
  button.addEventListener('click', () => {
    paused = !paused;
    button.textContent = paused ? 'Resume live updates' : 'Pause live updates';
    button.setAttribute('aria-pressed', String(paused));
  });
  const controls = document.createElement('p');
  controls.className = 'live-controls';
  controls.append(button);
  live.before(controls);
  const refresh = async () => {
    if (paused || document.hidden) return;
    try {
      const response = await fetch(window.location.href, { credentials: 'same-origin', headers: { accept: 'text/html' } });
      if (!response.ok) return;
      const next = new DOMParser().parseFromString(await response.text(), 'text/html').getElementById('live');
      if (next !== null) live.replaceChildren(...Array.from(next.childNodes, (node) => document.importNode(node, true)));
      document.body.setAttribute('data-refreshed', String(Date.now()));
    } catch {
      // The simulator stopped or restarted: try again on the next tick.
    }
  };
  window.setInterval(() => void refresh(), 2000);
})();
`;
