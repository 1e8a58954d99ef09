/**
 * GET /console: the web console's static files (built by `npm run build` into
 * dist/console), served by the service itself with a strict Content-Security-
 * Policy: scripts, styles, workers and API calls from this origin only, no
 * inline code, no framing. The page signs its own calls; nothing here
 * authenticates, because the files are the same for everyone.
 */
import fs from 'node:fs';
import path from 'node:path';
import express, { type Express } from 'express';
import { routeNotFound } from '../errors.js';
import { packageRoot } from '../package-root.js';

/**
 * The policy sent with every console file. connect-src 'self' keeps the key
 * from being sent to any other origin even by injected code; worker-src lets
 * the full ledger verification run in a module worker from this origin.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** Where the built console lives: dist/console under the package root. */
export function consoleDir(): string {
  return path.join(packageRoot(), 'dist', 'console');
}

/**
 * Mount the console on the app: headers, `GET /console/config.json`
 * (`audience` is what the page's tokens must name: public), the static files,
 * and a 404 problem saying how to build the console when its files are missing.
 * Mounted on the app itself (not a Router) so the OpenAPI route check sees the paths.
 */
export function mountConsole(app: Express, audience: string, dir: string = consoleDir()): void {
  app.use('/console', (_req, res, next) => {
    res.set({
      'Content-Security-Policy': CONSOLE_CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
    });
    next();
  });
  app.get('/console/config.json', (_req, res) => {
    res.set('Cache-Control', 'no-cache').json({ audience });
  });
  // Hashed asset names never change content, so they may be cached for long; index.html must not be.
  app.use('/console', express.static(dir, {
    index: 'index.html',
    setHeaders: (res, file) => {
      res.set('Cache-Control', file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  }));
  app.get('/console', () => {
    if (!fs.existsSync(path.join(dir, 'index.html'))) throw routeNotFound('the console is not built: run `npm run build`');
    throw routeNotFound('no such console file');
  });
}
