/**
 * buildApp(deps): the Express application with every route, no listen.
 * This is the wiring layer: it hands auth a key resolver so http/ never
 * imports a capability, and mounts each capability's routes under /v1.
 */
import { timingSafeEqual } from 'node:crypto';
import express, { Router, type Express, type RequestHandler } from 'express';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { routeNotFound, unauthenticated, unsupportedMediaType } from './errors.js';
import { authenticate, requestPath, type AuthDeps } from './http/auth.js';
import { RecentTokens } from './http/recent-tokens.js';
import { problemHandler } from './http/problem.js';
import { inputGuard } from './http/input-guard.js';
import { plainJsonBody } from './http/plain-json-body.js';
import { fixedLane } from './http/fixed-lane.js';
import { rateLimit } from './http/rate-limit.js';
import { createMetrics, registerCounterSource } from './http/metrics.js';
import type { SchemaRegistry } from './http/validation.js';
import { buildOpenApi } from './http/openapi.js';
import { isDatabaseReachable } from './db/data-source.js';
import type { ServiceKeys } from './service-keys.js';
import type { Services } from './services.js';
import { participantRoutes, registrationRoutes } from './participants/participants.routes.js';
import { datasetRoutes } from './datasets/datasets.routes.js';
import { agreementRoutes } from './agreements/agreements.routes.js';
import { reciprocityRoutes } from './reciprocity/reciprocity.routes.js';
import { createJobHandler, jobRoutes } from './jobs/jobs.routes.js';
import { computeRoutes } from './jobs/compute.routes.js';
import { ledgerRoutes } from './ledger/ledger.routes.js';
import { statementRoutes } from './statements/statements.routes.js';
import { mountConsole } from './console/console.routes.js';

/** Everything the app needs, built by main.ts or the tests. */
export interface AppDeps {
  config: Config;
  ds: DataSource;
  logger: Logger;
  keys: ServiceKeys;
  schemas: SchemaRegistry;
  services: Services;
}

/** Largest accepted request body, bytes (256 KiB). */
export const BODY_LIMIT = 256 * 1024;

/** Largest accepted compute result (POST /v1/jobs/:id/result): results are stored by the service, bounded. */
export const RESULT_BODY_LIMIT = '1mb';

/** Build the Express app. */
export function buildApp(deps: AppDeps): Express {
  const { config, ds, logger, keys, schemas, services } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.set('query parser', 'simple');
  // No ETag on API responses: Express would copy every body into a Buffer and SHA-1 it (1.5 % of the
  // service's CPU on POST /v1/jobs) for a conditional GET no API client makes (README, "Performance").
  // The console's static files keep theirs (express.static sets its own).
  app.set('etag', false);
  const metrics = createMetrics();
  registerCounterSource(metrics.registry, 'tds_witness_submissions_total', 'Checkpoint submissions to witnesses by witness and outcome (cosigned, conflict, refused, bad_response, unreachable)', ['witness', 'outcome'], () =>
    services.witnessing.counts().map((c) => ({ labels: { witness: c.witness, outcome: c.outcome }, value: c.value })),
  );
  const releases = [{ path: 'plain', stats: services.jobs.callerReleases.stats }, { path: 'ruled', stats: services.jobs.ruledCallerReleases.stats }];
  registerCounterSource(metrics.registry, 'tds_release_statements_total', 'POST /v1/jobs release statements of this process by path (plain, ruled) and kind: single (one request), batch (several), fallback (a batch that failed whole and ran request by request)', ['path', 'kind'], () =>
    releases.flatMap(({ path, stats }) => [
      { labels: { path, kind: 'single' }, value: stats.single }, { labels: { path, kind: 'batch' }, value: stats.batches }, { labels: { path, kind: 'fallback' }, value: stats.fallbacks },
    ]),
  );
  registerCounterSource(metrics.registry, 'tds_release_batched_requests_total', 'POST /v1/jobs requests this process sent in batch statements, by path', ['path'], () =>
    releases.map(({ path, stats }) => ({ labels: { path }, value: stats.batchedRequests })),
  );
  const jsonBody = express.json({ limit: BODY_LIMIT, type: ['application/json', 'application/*+json'] });
  const guard = inputGuard();
  // Bodies must be JSON when present: anything else is refused before a route sees it.
  const jsonOnly: RequestHandler = (req, _res, next) => {
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (hasBody && !req.is(['application/json', 'application/*+json'])) {
      throw unsupportedMediaType('request bodies must be application/json');
    }
    next();
  };

  const auth: AuthDeps = {
    audience: config.audience,
    resolveKey: (kid) => services.participants.resolveKey(kid),
    recordUseAndReadState: (kid, iss, jti, exp) => services.participants.recordUseAndReadState(kid, iss, jti, exp),
    readKeyState: (kid) => services.participants.readKeyState(kid),
    recordTokenUse: (iss, jti, exp) => services.participants.recordTokenUse(iss, jti, exp),
    // One memory per app, i.e. per process: a replayed GET is refused here, a replayed write everywhere (README, "Security").
    recentReads: config.readTokenReplay === 'process' ? new RecentTokens() : undefined,
    // POST /v1/jobs records its token use inside the release statement (jobs/release.store.ts).
    deferred: (req) => req.method === 'POST' && requestPath(req) === '/v1/jobs',
  };
  const authenticated = authenticate(auth);
  // The job authorization, the hot path, runs in a fixed lane: the same layers as through the routers
  // below (metrics, JSON body, input guard, JSON-only, authentication, the handler), without the routers'
  // search (http/fixed-lane.ts). Any other spelling of the request takes the routers.
  app.use(fixedLane('POST', '/v1/jobs', '/v1/jobs', [metrics.middleware, plainJsonBody(BODY_LIMIT, jsonBody), guard, jsonOnly, authenticated, createJobHandler(services.jobs, schemas)]));
  app.use(metrics.middleware);
  // Only a compute result may be larger; the parser that runs first marks the body read, so the general one skips it.
  app.post('/v1/jobs/:id/result', express.json({ limit: RESULT_BODY_LIMIT, type: ['application/json', 'application/*+json'] }));
  app.use(jsonBody);
  app.use(guard);
  app.use('/v1', jsonOnly);

  // Registration is the one unauthenticated write: bounded per source address and globally before any work.
  app.post('/v1/participants', rateLimit({ perAddressPerMinute: config.registrationsPerMinutePerAddress, globalPerMinute: config.registrationsPerMinute }));
  // Every capability adds its routes to this one router: Express leaves a router that has no matching
  // route on the next event-loop turn (setImmediate), so with one router per capability a request took up
  // to nine extra turns, and router traversal was 22 % of the bytes a proof GET allocates (12 % now).
  const v1 = Router();
  registrationRoutes(v1, services.participants, schemas, auth);
  v1.use(authenticated);
  // The hot paths first (job authorizations, then ledger reads and proofs): Express tries every earlier
  // layer's pattern on every request, and no two capabilities' patterns match the same path, so order
  // changes nothing but that cost (README, "Performance").
  jobRoutes(v1, services.jobs, services.jobLifecycle, schemas);
  ledgerRoutes(v1, services.ledger, schemas, services.receipts);
  participantRoutes(v1, services.participants, schemas);
  datasetRoutes(v1, services.datasets, schemas);
  agreementRoutes(v1, services.offers, services.contracts, schemas);
  reciprocityRoutes(v1, services.reciprocity, schemas);
  computeRoutes(v1, services.computeJobs, services.reviews, schemas);
  statementRoutes(v1, services.statements, services.settlements, schemas);
  app.use('/v1', v1);

  // Everything outside /v1 comes after it, so an API request does not try these patterns first.
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const ok = await isDatabaseReachable(ds);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not ready', database: ok ? 'up' : 'down' });
  });
  // /metrics is configurable (README): off, or only for the scraper's bearer token (compared in constant time).
  if (config.metrics !== 'off') {
    app.get('/metrics', async (req, res) => {
      if (config.metricsToken !== undefined) {
        const given = Buffer.from(req.get('authorization') ?? '');
        const want = Buffer.from(`Bearer ${config.metricsToken}`);
        if (given.length !== want.length || !timingSafeEqual(given, want)) throw unauthenticated('AUTH_REQUIRED', '/metrics needs Authorization: Bearer <TDS_METRICS_TOKEN>');
      }
      res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    });
  }
  app.get('/.well-known/jwks.json', (_req, res) => {
    // Both service keys (SPEC): release tokens, and ledger checkpoints (also served as a signed-note verifier key).
    res.set('Cache-Control', 'public, max-age=300').json({ keys: [keys.release.publicJwk, keys.ledger.publicJwk] });
  });
  mountConsole(app, config.audience);
  const openapi = buildOpenApi(schemas);
  app.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });

  app.use((req) => {
    throw routeNotFound(`no route ${req.method} ${req.path}`);
  });
  app.use(problemHandler(logger));
  return app;
}
