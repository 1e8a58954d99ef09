/** GET /console: static files with the strict policy, the page's settings, and a clear problem when the console is not built. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import request from 'supertest';
import { pino } from 'pino';
import { CONSOLE_CSP, mountConsole } from '../../src/console/console.routes.js';
import { problemHandler } from '../../src/http/problem.js';

function appWith(dir: string) {
  const app = express();
  mountConsole(app, 'tds-test-audience', dir);
  app.use(problemHandler(pino({ level: 'silent' })));
  return app;
}

describe('the console route', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-console-route-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('says how to build the console when its files are missing (404 problem, not a 500)', async () => {
    const res = await request(appWith(path.join(dir, 'missing'))).get('/console');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 'ROUTE_NOT_FOUND', detail: expect.stringContaining('npm run build') });
    expect(res.headers['content-security-policy']).toBe(CONSOLE_CSP);
  });

  it('serves the built files with the strict policy and the audience in config.json', async () => {
    fs.mkdirSync(path.join(dir, 'assets'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>t</title>');
    fs.writeFileSync(path.join(dir, 'assets', 'a-123.js'), 'export {};');
    const app = appWith(dir);
    const page = await request(app).get('/console/');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'none'.*script-src 'self'.*connect-src 'self'/);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['cache-control']).toBe('no-cache');
    const asset = await request(app).get('/console/assets/a-123.js');
    expect(asset.headers['cache-control']).toContain('immutable');
    expect((await request(app).get('/console/config.json')).body).toEqual({ audience: 'tds-test-audience' });
    expect((await request(app).get('/console')).status).toBe(301);
  });
});
