import { html, type Html, type HtmlValue } from './html.ts';
import { DASHBOARD_PREFIX, type DashboardSession } from './session.ts';

export const PAGES = [
  { path: '', title: 'Apps' },
  { path: '/accounts', title: 'Test accounts' },
  { path: '/connections', title: 'Connections' },
  { path: '/requests', title: 'Request log' },
  { path: '/deliveries', title: 'Webhook deliveries' },
] as const;

export type PagePath = (typeof PAGES)[number]['path'];

export const href = (path: string): string => `${DASHBOARD_PREFIX}${path === '' ? '/' : path}`;

/** A POST form carrying the session's CSRF token. */
export function form(
  session: DashboardSession,
  action: string,
  body: HtmlValue,
  options: { className?: string; confirm?: string; label?: string } = {},
): Html {
  return html`<form
    method="post"
    action="${href(action)}"
    class="${options.className ?? 'inline'}"
    ${
      options.confirm === undefined ? '' : html` data-confirm="${options.confirm}"`
    }${options.label === undefined ? '' : html` aria-label="${options.label}"`}
  >
    <input type="hidden" name="csrf" value="${session.csrfToken}" />${body}
  </form>`;
}

export function page(input: {
  title: string;
  current: PagePath | null;
  session: DashboardSession | null;
  body: HtmlValue;
}): string {
  const flash = input.session?.flash ?? null;
  if (input.session !== null) input.session.flash = null;
  const nav =
    input.session === null
      ? ''
      : html`<nav aria-label="Dashboard">
            <ul>
              ${PAGES.map(
                (p) =>
                  html`<li>
                    <a href="${href(p.path)}" ${p.path === input.current ? html` aria-current="page"` : ''}
                      >${p.title}</a
                    >
                  </li>`,
              )}
            </ul>
          </nav>
          ${form(input.session, '/logout', html`<button type="submit" class="secondary">Sign out</button>`)}`;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${input.title} · Voltkit simulator</title>
        <link rel="stylesheet" href="${DASHBOARD_PREFIX}/dashboard.css" />
        <script src="${DASHBOARD_PREFIX}/dashboard.js" defer></script>
      </head>
      <body>
        <header>
          <h1>Voltkit simulator</h1>
          ${nav}
        </header>
        <main id="main">
          <h2>${input.title}</h2>
          ${flash === null ? '' : html`<p class="flash ${flash.kind}" role="${flash.kind === 'error' ? 'alert' : 'status'}" id="flash">${flash.text}</p>`}
          ${input.body}
        </main>
      </body>
    </html>`.text;
}

export function time(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 23);
}

/** `a1b2c3d4…` for long ids in tables (the full id is in the title). */
export function shortId(id: string | null): Html {
  if (id === null) return html`<span class="muted">—</span>`;
  return html`<code title="${id}">${id.length > 12 ? `${id.slice(0, 8)}…` : id}</code>`;
}
