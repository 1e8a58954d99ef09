/** HTTP routes of compute jobs. */
import type { RequestHandler, Router } from 'express';
import type { SchemaRegistry } from '../http/validation.js';
import { pendingPrincipalOf, principalOf } from '../http/auth.js';
import { pathId } from '../http/params.js';
import { requireRole } from '../principal.js';
import { invalidField } from '../errors.js';
import type { JobRequest, JobsService } from './jobs.service.js';
import type { JobFailure, JobLifecycleService } from './job-lifecycle.service.js';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/**
 * POST /v1/jobs: authorize a job and release the dataset. Mounted by jobRoutes and, for the exact path,
 * by app.ts's fixed lane (http/fixed-lane.ts), which runs the same middleware before it.
 */
export function createJobHandler(svc: JobsService, schemas: SchemaRegistry): RequestHandler {
  return async (req, res) => {
    // Authentication left the token use to the release statement (app.ts `deferred`, jobs/release.store.ts).
    const pending = pendingPrincipalOf(res);
    let body: JobRequest;
    const key = req.get('Idempotency-Key');
    try {
      body = schemas.check<JobRequest>('job-request.v1', req.body);
      if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
        throw invalidField('/headers/Idempotency-Key', 'invalid', 'Idempotency-Key must be 1-200 visible ASCII characters');
      }
    } catch (e) {
      // Bad input still uses the token, and a refusal of the caller comes before one of its input.
      requireRole(await pending.complete(), 'consumer');
      throw e;
    }
    const { job, replayed } = await svc.authorizeAsCaller(pending, body, key);
    if (replayed) res.set('Idempotent-Replayed', 'true');
    // Written directly (the same status, headers and bytes as res.status(201).location(..).json(job)): Express's
    // json/send/set path was ~3 % of the service's CPU on this route (README, "Performance").
    const text = JSON.stringify(job);
    res.statusCode = 201;
    res.setHeader('Location', `/v1/jobs/${job.id}`);
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Length', Buffer.byteLength(text));
    res.end(text);
  };
}

/** Adds its routes to the /v1 router (after authentication). */
export function jobRoutes(r: Router, svc: JobsService, lifecycle: JobLifecycleService, schemas: SchemaRegistry): void {
  r.post('/jobs', createJobHandler(svc, schemas));
  r.get('/jobs/:id', async (req, res) => {
    res.json(await svc.get(principalOf(res), pathId(req, 'job')));
  });
  r.get('/jobs/:id/release-status', async (req, res) => {
    res.set('Cache-Control', 'no-store').json(await svc.releaseStatus(principalOf(res), pathId(req, 'job')));
  });
  r.post('/jobs/:id/complete', async (req, res) => {
    const p = principalOf(res);
    const body = schemas.check<{ resultDigest: string; exitCode?: number }>('job-completion.v1', req.body);
    res.json(await svc.complete(p, pathId(req, 'job'), body));
  });
  r.post('/jobs/:id/fail', async (req, res) => {
    const p = principalOf(res);
    const body = schemas.check<JobFailure>('job-failure.v1', req.body);
    res.json(await lifecycle.fail(p, pathId(req, 'job'), body));
  });
}
