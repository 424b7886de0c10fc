import { createHash } from 'node:crypto';
import { SCOPE_CATALOG, type Scope } from '@voltkit/core/permissions';
import type { FastifyReply } from 'fastify';
import type { BrandSpec } from '../catalog/brands.ts';
import type { VehicleSummary } from '../engine.ts';

/**
 * Server-rendered Connect pages. The element ids and classes are an automation contract shared with
 * Smartcar's own Connect (`continue-button`, `brand-search`, `<BRAND>.brand-list-item`, `username`,
 * `password`, `sign-in-button`, `.page-content`, `approval-button`, `deny-button`): keep them stable.
 */

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const STYLE = `
*{box-sizing:border-box}body{margin:0;font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f3f5f8;color:#1d2430}
main{max-width:440px;margin:40px auto;background:#fff;border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.08);padding:28px}
h1{font-size:1.35rem;margin:0 0 12px}p{line-height:1.45}.muted{color:#5b6575;font-size:.9rem}
button{font:inherit;cursor:pointer;border-radius:8px;border:1px solid #c9d1dc;background:#fff;padding:10px 14px}
.primary{background:#1f5eff;border-color:#1f5eff;color:#fff;width:100%;margin-top:12px}
.secondary{width:100%;margin-top:8px}
input[type=text],input[type=password],input[type=search]{width:100%;padding:10px;border:1px solid #c9d1dc;border-radius:8px;font:inherit;margin:4px 0 12px}
.brand-grid{display:grid;grid-template-columns:1fr 1fr;gap:8px;margin-top:8px}
.brand-list-item{text-align:left}.error{color:#b3261e;background:#fdecea;padding:8px 10px;border-radius:6px}
ul.scopes{padding-left:18px}ul.scopes li{margin:6px 0}.vehicle{display:block;margin:6px 0}
.app{color:#3040a0;font-weight:600;margin:0 0 16px}.vehicle.unavailable{color:#8a93a3}
.badge{font-size:.75rem;background:#eef2ff;color:#3040a0;border-radius:4px;padding:1px 6px;margin-left:6px}
`;

function page(title: string, appName: string | undefined, body: string, script = ''): string {
  const app =
    appName === undefined
      ? ''
      : `<p class="app" id="requesting-app">Requested by ${escapeHtml(appName)}</p>\n`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} · Voltkit Connect</title><style>${STYLE}</style></head>
<body><main>${app}${body}</main>${script === '' ? '' : `<script>${script}</script>`}</body></html>`;
}

function csrfField(token: string): string {
  return `<input type="hidden" name="csrf_token" value="${escapeHtml(token)}">`;
}

export function preamblePage(input: {
  sessionId: string;
  appName: string;
  next: string;
  mode: string;
}): string {
  return page(
    'Connect your vehicle',
    input.appName,
    `<h1>${escapeHtml(input.appName)} would like to connect to your vehicle</h1>
<p>You will sign in with your vehicle brand's connected-services account and choose what ${escapeHtml(input.appName)} may access.</p>
${input.mode === 'live' ? '' : `<p class="muted">Simulator · ${escapeHtml(input.mode)} mode: any email and password work.</p>`}
<form method="get" action="${escapeHtml(input.next)}"><button id="continue-button" class="primary" type="submit">Continue</button></form>`,
  );
}

// Filters brand buttons by what is typed, ignoring case, accents, spaces and hyphens.
const BRAND_FILTER_SCRIPT = `
(function(){var s=document.getElementById('brand-search');if(!s)return;
function n(v){return (v||'').normalize('NFD').replace(/[\\u0300-\\u036f]/g,'').toLowerCase().replace(/[^a-z0-9]/g,'');}
s.addEventListener('input',function(){var q=n(s.value);var items=document.querySelectorAll('.brand-list-item');
for(var i=0;i<items.length;i++){var b=items[i];var hit=q===''||n(b.id).indexOf(q)>=0||n(b.textContent).indexOf(q)>=0;b.style.display=hit?'':'none';}});})();`;

export function brandsPage(input: {
  sessionId: string;
  appName: string;
  csrfToken: string;
  brands: readonly BrandSpec[];
}): string {
  const buttons = input.brands
    .map(
      (b) =>
        `<button type="submit" id="${escapeHtml(b.id)}" class="brand-list-item" name="brand" value="${escapeHtml(b.make)}">${escapeHtml(b.displayName)}</button>`,
    )
    .join('\n');
  return page(
    'Select your brand',
    input.appName,
    `<h1>Select your vehicle's brand</h1>
<label for="brand-search" class="muted">Search brands</label>
<input id="brand-search" type="search" autocomplete="off" placeholder="Search brands">
<form method="post" action="/connect/${escapeHtml(input.sessionId)}/brand">${csrfField(input.csrfToken)}<div class="brand-grid">${buttons}</div></form>`,
    BRAND_FILTER_SCRIPT,
  );
}

export function signInPage(input: {
  sessionId: string;
  appName: string;
  csrfToken: string;
  brand: BrandSpec;
  error?: string;
  email?: string;
}): string {
  return page(
    `Sign in to ${input.brand.displayName}`,
    input.appName,
    `<h1>Sign in to your ${escapeHtml(input.brand.displayName)} account</h1>
${input.error === undefined ? '' : `<p class="error" role="alert">${escapeHtml(input.error)}</p>`}
<form method="post" action="/connect/${escapeHtml(input.sessionId)}/login">${csrfField(input.csrfToken)}
<label for="username">Email</label>
<input id="username" name="username" type="text" autocomplete="username" value="${escapeHtml(input.email ?? '')}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password">
<button id="sign-in-button" class="primary" type="submit">Sign in</button>
</form>`,
  );
}

export function approvalPage(input: {
  sessionId: string;
  appName: string;
  csrfToken: string;
  vehicles: readonly VehicleSummary[];
  /** Vehicles of the brand that cannot serve a required permission: shown, not selectable. */
  unavailable: readonly VehicleSummary[];
  scopes: readonly Scope[];
  required: readonly Scope[];
  singleSelect: boolean;
  error?: string;
}): string {
  const inputType = input.singleSelect ? 'radio' : 'checkbox';
  const describe = (v: VehicleSummary) =>
    `${v.year} ${escapeHtml(v.make)} ${escapeHtml(v.model)} <span class="muted">VIN ${escapeHtml(v.vin)}</span>`;
  const vehicles = [
    ...input.vehicles.map(
      (v, i) =>
        `<label class="vehicle"><input type="${inputType}" name="vehicle" value="${escapeHtml(v.id)}"${!input.singleSelect || i === 0 ? ' checked' : ''}> ${describe(v)}</label>`,
    ),
    ...input.unavailable.map(
      (v) =>
        `<label class="vehicle unavailable"><input type="${inputType}" disabled> ${describe(v)} <span class="badge">not compatible</span></label>`,
    ),
  ].join('\n');
  // Optional permissions are ticked boxes the owner may untick; required ones are fixed (a disabled box is
  // never submitted: the server adds required scopes itself).
  const scopes = input.scopes
    .map((s) => {
      const required = input.required.includes(s);
      const box = required
        ? `<input type="checkbox" checked disabled>`
        : `<input type="checkbox" name="scope" value="${escapeHtml(s)}" checked>`;
      return `<li data-scope="${escapeHtml(s)}"><label>${box} ${escapeHtml(SCOPE_CATALOG[s])}</label>${required ? '<span class="badge">required</span>' : ''}</li>`;
    })
    .join('\n');
  return page(
    'Allow access',
    input.appName,
    `<form method="post" action="/connect/${escapeHtml(input.sessionId)}/approve">${csrfField(input.csrfToken)}
<div class="page-content">
<h1>Allow ${escapeHtml(input.appName)} to access your vehicle</h1>
${input.error === undefined ? '' : `<p class="error" role="alert">${escapeHtml(input.error)}</p>`}
<p class="muted">Vehicles</p>
${vehicles}
<p class="muted">${escapeHtml(input.appName)} will be able to:</p>
<ul class="scopes">${scopes}</ul>
</div>
<button id="approval-button" class="primary" type="submit" name="action" value="approve">Allow</button>
<button id="deny-button" class="secondary" type="submit" name="action" value="deny">Deny</button>
</form>`,
  );
}

export function errorPage(title: string, message: string, appName?: string): string {
  return page(title, appName, `<h1>${escapeHtml(title)}</h1><p class="error">${escapeHtml(message)}</p>`);
}

function cspHash(source: string): string {
  return `'sha256-${createHash('sha256').update(source).digest('base64')}'`;
}

/**
 * Content-Security-Policy of every Connect page: nothing loads but the page's own style and brand filter
 * (allowed by hash), no page may frame it (clickjacking, RFC 9700 §4.7) and no `<base>` can redirect forms.
 */
export const CONNECT_CSP = [
  "default-src 'none'",
  `style-src ${cspHash(STYLE)}`,
  `script-src ${cspHash(BRAND_FILTER_SCRIPT)}`,
  "img-src 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers of every Connect response: never cached, never framed, never sniffed, no referrer. */
export function connectHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('cache-control', 'no-store')
    .header('content-security-policy', CONNECT_CSP)
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer');
}
