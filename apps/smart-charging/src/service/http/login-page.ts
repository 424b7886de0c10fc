import { createHash } from 'node:crypto';

/**
 * The operator's way into the dashboard: a one-time login link carries its code in the URL fragment (which
 * browsers never send, so it is in no log and no Referer); this page posts it, or a pasted API token, to
 * `POST /api/session` and goes on to the dashboard.
 */
const LOGIN_SCRIPT = `
const form = document.getElementById('login');
const error = document.getElementById('error');
async function signIn(credential) {
  const response = await fetch('api/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ credential }),
  });
  if (response.ok) {
    // Owners land on their own page, operators on the console.
    const me = await response.json();
    location.replace(me.kind === 'owner' ? 'owner' : './');
    return;
  }
  const answer = await response.json().catch(() => ({ error: { message: 'sign-in failed' } }));
  error.textContent = answer.error.message;
}
const fragment = new URLSearchParams(location.hash.slice(1));
history.replaceState(null, '', location.pathname);
if (fragment.get('code')) signIn(fragment.get('code'));
form.addEventListener('submit', (event) => {
  event.preventDefault();
  signIn(document.getElementById('credential').value.trim());
});
`;

export function renderLoginPage(title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · ${escapeHtml(title)}</title>
<style>
  body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color:#1d2733; background:#f5f7fa; }
  main { max-width:520px; margin:48px auto; background:#fff; border:1px solid #dfe5ec; border-radius:8px; padding:16px 24px; }
  input { width:100%; padding:6px; margin:8px 0; box-sizing:border-box; }
  .error { color:#c23030; }
</style>
</head>
<body>
<main>
  <h1>${escapeHtml(title)}</h1>
  <p>Operators: open the login link the <code>voltkit-smart-charging login-link</code> command printed, or paste an API token.
  Car owners sign in by connecting their car from the dashboard.</p>
  <form id="login"><label>API token <input id="credential" type="password" autocomplete="off" required></label>
  <button id="sign-in" type="submit">Sign in</button></form>
  <p id="error" class="error"></p>
</main>
<script>${LOGIN_SCRIPT}</script>
</body>
</html>`;
}

/** The CSP source that allows exactly the inline scripts of a page and nothing else. */
export function inlineScriptHashes(html: string): string[] {
  return [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map(
    (match) => `'sha256-${createHash('sha256').update(match[1]!, 'utf8').digest('base64')}'`,
  );
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}
