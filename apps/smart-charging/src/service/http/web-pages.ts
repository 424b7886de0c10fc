import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { ApiError, defineRoute, type ApiRoute } from './api-route.ts';
import { assetPageContentSecurityPolicy } from './security.ts';

/**
 * Where the built pages are: `dist/web` beside the bundle when running from dist/, or the package's
 * dist/web when running from sources (tests build it first). Null when the front end was never built.
 */
export function findWebAssets(): string | null {
  for (const candidate of ['./web/', '../../../dist/web/']) {
    const directory = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(`${directory}console.html`)) return directory;
  }
  return null;
}

const escapeHtml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** Serves `assets/*` (scripts, styles) and returns the routes of the two pages. */
export function registerWebAssets(app: FastifyInstance, title: string): ApiRoute[] {
  const directory = findWebAssets();
  if (directory !== null)
    // Loaded with the other plugins when the server starts (fastify queues registrations).
    void app.register(fastifyStatic, { root: directory, prefix: '/assets/', index: false, wildcard: true });
  const page = (file: string): (() => string) => {
    let cached: string | null = null;
    return () => {
      if (directory === null)
        throw new ApiError(
          503,
          'INTERNAL',
          'the front end is not built: run `pnpm --filter @voltkit/smart-charging build`',
        );
      cached ??= readFileSync(`${directory}${file}`, 'utf8').replaceAll('{{title}}', escapeHtml(title));
      return cached;
    };
  };
  const consolePage = page('console.html');
  const ownerPage = page('owner.html');
  return [
    defineRoute({
      method: 'GET',
      url: '/',
      tag: 'pages',
      summary:
        'The operator console (HTML; its scripts are under /assets/, its data comes from the API as the signed-in user)',
      access: 'public',
      async handler({ reply }) {
        return reply
          .header('content-security-policy', assetPageContentSecurityPolicy())
          .type('text/html; charset=utf-8')
          .send(consolePage());
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/owner',
      tag: 'pages',
      summary: 'The owner’s page: my cars, departure and target, charge now (HTML)',
      access: 'public',
      async handler({ reply }) {
        return reply
          .header('content-security-policy', assetPageContentSecurityPolicy())
          .type('text/html; charset=utf-8')
          .send(ownerPage());
      },
    }),
  ];
}
