import { z } from 'zod';
import { endSession, principalOf, redeemCredential, startSession } from '../auth/identity.ts';
import type { SmartChargingService } from '../smart-charging-service.ts';
import { ApiError, defineRoute, type ApiRoute } from './api-route.ts';
import { clearSessionCookie, readCookie, SESSION_COOKIE, setSessionCookie } from './cookies.ts';
import { inlineScriptHashes, renderLoginPage } from './login-page.ts';
import { pageContentSecurityPolicy } from './security.ts';

/** What the front end needs to know about who is signed in (the one interface for role handling). */
export const MeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('anonymous') }),
  z.object({ kind: z.literal('owner'), ownerId: z.string(), name: z.string() }),
  z.object({ kind: z.literal('operator'), role: z.enum(['admin', 'read']), name: z.string() }),
]);
export type Me = z.infer<typeof MeSchema>;

/** Sign-in, sign-out, who am I, the OpenAPI description and the sign-in page. */
export function createAuthRoutes(
  service: SmartChargingService,
  options: {
    readonly title: string;
    readonly authNow: () => Date;
    readonly openApi: () => Record<string, unknown>;
  },
): ApiRoute[] {
  const { apiDb: db } = service;
  const login = renderLoginPage(options.title);
  const page = (html: string) => ({ html, csp: pageContentSecurityPolicy(inlineScriptHashes(html)) });
  const pages = { login: page(login) };
  return [
    defineRoute({
      method: 'GET',
      url: '/api/me',
      tag: 'identity',
      summary: 'Who is signed in: anonymous, an owner, or an operator with a role',
      access: 'public',
      response: MeSchema,
      handler({ principal }) {
        const me: Me =
          principal.kind === 'owner'
            ? { kind: 'owner', ownerId: principal.ownerId, name: principal.name }
            : principal.kind === 'operator'
              ? { kind: 'operator', role: principal.role, name: principal.name }
              : { kind: 'anonymous' };
        return Promise.resolve(me);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/session',
      tag: 'identity',
      summary:
        'Sign this browser in with a one-time login code (from a login link) or an operator API token: sets the session cookie',
      access: 'public',
      rateLimited: true,
      body: z.object({ credential: z.string().min(1).max(200) }).strict(),
      response: MeSchema,
      async handler({ body, request, reply }) {
        const subject = await redeemCredential(db, body.credential, options.authNow());
        const principal = subject && (await principalOf(db, subject));
        if (!subject || !principal)
          throw new ApiError(
            401,
            'UNAUTHENTICATED',
            'body.credential: not a valid login code or API token (used, expired or revoked?)',
          );
        const session = await startSession(db, subject, {
          now: options.authNow(),
          previousSecret: readCookie(request, SESSION_COOKIE),
        });
        setSessionCookie(request, reply, session.secret, session.expiresAt);
        return principal.kind === 'owner'
          ? { kind: 'owner', ownerId: principal.ownerId, name: principal.name }
          : principal.kind === 'operator'
            ? { kind: 'operator', role: principal.role, name: principal.name }
            : { kind: 'anonymous' };
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/api/session',
      tag: 'identity',
      summary: 'Sign this browser out (ends its session)',
      access: 'public',
      async handler({ request, reply }) {
        const secret = readCookie(request, SESSION_COOKIE);
        if (secret) await endSession(db, secret);
        clearSessionCookie(request, reply);
        return { ok: true };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/openapi.json',
      tag: 'meta',
      summary: 'This OpenAPI 3.1 description',
      access: 'public',
      handler: () => Promise.resolve(options.openApi()),
    }),
    defineRoute({
      method: 'GET',
      url: '/login',
      tag: 'pages',
      summary: 'Operator sign-in page (a login link opens it with its one-time code in the fragment)',
      access: 'public',
      async handler({ reply }) {
        return reply
          .header('content-security-policy', pages.login.csp)
          .type('text/html; charset=utf-8')
          .send(pages.login.html);
      },
    }),
  ];
}
